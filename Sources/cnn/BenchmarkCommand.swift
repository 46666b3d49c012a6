import ArgumentParser
import CNNBenchmarks
import CNNKit
import Foundation

/// `cnn benchmark`: GF/s of the kernels and images/s of training, on this machine.
struct Benchmark: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure GEMM and convolution GF/s and SimpleConvNet training images/s.",
    discussion: """
      Each figure is the median of several timed blocks after a warm-up. Compare with \
      ../shared/bench/bench_torch.py run on the same machine at the same time.
      """)

  @Option(help: "Worker threads for the kernels (default: all cores).")
  var threads: Int?

  @Option(help: "Minimum seconds per timed block.")
  var minTime: Double = 0.3

  @Option(help: "Timed blocks per measurement (the median is reported).")
  var repeats: Int = 5

  @Option(help: "Only run measurements whose name contains one of these comma-separated words (e.g. sgemm,conv,train).")
  var only: String?

  @Flag(help: "Write one JSON object per line and measurement, and nothing else.")
  var json = false

  func validate() throws {
    guard (1...1_000).contains(repeats) else { throw ValidationError("--repeats must be in 1…1000 (got \(repeats)).") }
    guard minTime.isFinite, (0.001...3600).contains(minTime) else {
      throw ValidationError("--min-time must be 0.001 to 3600 seconds (got \(minTime)).")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads)).") }
  }

  func run() throws {
    if let threads { ComputeThreads.count = threads }
    let filters = only?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
    if !json {
      Console.out("CNNKit benchmark, \(ComputeThreads.count) threads, GEMM kernel: \(GEMMKernel.current)\n")
    }
    for suite in KernelBenchmarks.all(minTime: minTime, repeats: repeats)
    where filters.isEmpty || filters.contains(where: { suite.name.contains($0) }) {
      let measurement = suite.run()
      if json {
        var line = measurement
        line.value = (measurement.value * 10).rounded() / 10
        Console.out(String(decoding: (try? JSONLines.encoder().encode(line)) ?? Data("{}".utf8), as: UTF8.self) + "\n")
      } else {
        Console.out(
          measurement.name.padding(toLength: 52, withPad: " ", startingAt: 0)
            + " \(measurement.value.formatted(1)) \(measurement.unit)\n")
      }
    }
  }
}
