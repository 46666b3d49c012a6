import ArgumentParser
import CNNBenchmarks
import CNNKit
import Foundation

/// `cnn benchmark`: GF/s of the kernels and images/s of training, on this machine.
struct Benchmark: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure GEMM and convolution GF/s and training images/s, or one network's speed and memory.",
    discussion: """
      Each figure is the median of several timed blocks after a warm-up. Compare with \
      ../shared/bench/bench_torch.py run on the same machine at the same time.

      With --model: training-step images/s (the model's own recipe's optimizer), inference \
      images/s at the batch size and at batch 1, and the process's peak memory, on random \
      images (cnn benchmark --model resnet18 --input 3x32x32 --batch-size 128). One epoch on \
      real data in PyTorch: ../shared/bench/e2e_torch.py.
      """)

  @Option(help: "Measure this network instead of the kernels: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
  var model: ModelName?

  @Option(help: "With --model: images per batch, 1 to \(RunLimits.batchSize.upperBound) (default: the model's recipe).")
  var batchSize: Int?

  @Option(help: "With --model: the image shape C×H×W, each size 1 to 1048576 (default: the network's own).")
  var input: ImageShape?

  @Option(help: "With --model: the number of classes, 1 to \(RunLimits.classes.upperBound) (default: the network's own).")
  var classes: Int?

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
    if model == nil, batchSize != nil || input != nil || classes != nil {
      throw ValidationError("--batch-size, --input and --classes describe the network of --model; add --model NAME.")
    }
    if let batchSize, !RunLimits.batchSize.contains(batchSize) {
      throw ValidationError("--batch-size must be 1 to \(RunLimits.batchSize.upperBound) (got \(batchSize)).")
    }
    if let classes, !RunLimits.classes.contains(classes) {
      throw ValidationError("--classes must be 1 to \(RunLimits.classes.upperBound) (got \(classes)).")
    }
  }

  func run() throws {
    if let threads { ComputeThreads.count = threads }
    let filters = only?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
    if !json {
      Console.out("CNNKit benchmark, \(ComputeThreads.count) threads, GEMM kernel: \(GEMMKernel.current)\n")
    }
    let suites: [BenchmarkSuite]
    if let model {
      let setup = ModelBenchmarks.Setup(model: model, batchSize: batchSize, inputShape: input?.shape, classCount: classes)
      // `--only infer` (or any filter no training measurement matches) leaves training out,
      // and with it the training run's memory check.
      let training = filters.isEmpty || filters.contains { "train \(model.rawValue)".contains($0) || $0.hasPrefix("train") }
      do {
        suites = try ModelBenchmarks.suites(for: setup, training: training, minTime: minTime, repeats: repeats)
      } catch {
        guard case .memoryBudget(let budget) = error else { throw error }
        throw BenchmarkFailure(
          description: "The benchmark cannot run: \(budget.problem)\n---> HINT: \(budget.hint) A smaller --batch-size or --input "
            + "also helps, and --only infer measures inference alone.")
      }
    } else {
      suites = KernelBenchmarks.all(minTime: minTime, repeats: repeats)
    }
    for suite in suites
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

/// A benchmark that would not fit the memory budget, said with the benchmark's own options.
struct BenchmarkFailure: Error, CustomStringConvertible {
  var description: String
}
