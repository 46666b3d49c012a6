import ArgumentParser
import CNNKit
import Foundation

#if MPI
import CNNDistributed

/// The subcommands of the package trait `MPI`.
let distributedSubcommands: [any ParsableCommand.Type] = [Allreduce.self]

/// `cnn allreduce`: the latency and bandwidth of summing gradients over the ranks.
struct Allreduce: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure MPI allreduce (sum of floats) time and bandwidth by message size.",
    discussion: """
      Run under mpirun, e.g. mpirun -np 2 cnn allreduce. For each size, every rank sums a buffer of \
      that many bytes of Float32 in place (the call DataParallel makes per gradient bucket), after \
      warm-up calls; rank 0 prints the median time of one call, the algorithm bandwidth (bytes / \
      time) and the bus bandwidth (2(p−1)/p × bytes / time, what one link of a ring carries).
      """)

  @Option(help: "Message sizes in bytes, comma-separated (default: 4 B to 64 MiB, every factor 4).")
  var sizes: String?

  @Option(help: "Timed calls per size (default: enough for about 0.5 s, between 5 and 1000).")
  var repeats: Int?

  @Flag(help: "Write one JSON object per size instead of a table.")
  var json = false

  func run() throws {
    let mpi = try MPIContext.start()
    let byteSizes = try parsedSizes()
    if mpi.isPrimary && !json {
      Console.out("allreduce (MPI_SUM, Float32) over \(mpi.size) ranks\n")
      Console.out("     bytes    median µs     algo GB/s      bus GB/s\n")
    }
    for bytes in byteSizes {
      var buffer = [Float](repeating: 1, count: max(1, bytes / 4))
      let once = { buffer.withUnsafeMutableBufferPointer { mpi.sum($0) } }
      for _ in 0..<3 { once() }
      // Every rank runs the same number of calls: rank 0's estimate, broadcast.
      let clock = ContinuousClock()
      let probeStart = clock.now
      once()
      var estimate = [Float(max((clock.now - probeStart).seconds, 1e-7))]
      estimate.withUnsafeMutableBufferPointer { mpi.broadcast($0, from: 0) }
      let count = repeats ?? min(1000, max(5, Int(0.5 / Double(estimate[0]))))
      var times: [Double] = []
      for _ in 0..<count {
        mpi.barrier()
        let start = clock.now
        once()
        times.append((clock.now - start).seconds)
      }
      // Each rank's median; the table shows the slowest rank's.
      let median = times.sorted()[times.count / 2]
      var medians = [Double](repeating: 0, count: mpi.size)
      medians[mpi.rank] = median
      let all = mpi.sum(medians)
      let worst = all.max() ?? median
      let actual = Double(buffer.count * 4)
      let ranks = Double(mpi.size)
      let algorithm = actual / worst / 1e9
      let bus = algorithm * 2 * (ranks - 1) / ranks
      if mpi.isPrimary {
        if json {
          Console.out(
            "{\"ranks\":\(mpi.size),\"bytes\":\(Int(actual)),\"median_us\":\(worst * 1e6),\"algorithm_gbps\":\(algorithm),"
              + "\"bus_gbps\":\(bus),\"calls\":\(count)}\n")
        } else {
          Console.out(
            Int(actual).grouped.leftPadded(10) + (worst * 1e6).formatted(1).leftPadded(13)
              + algorithm.formatted(3).leftPadded(14) + bus.formatted(3).leftPadded(14) + "\n")
        }
      }
    }
    mpi.finish()
  }

  private func parsedSizes() throws -> [Int] {
    guard let sizes else { return stride(from: 2, through: 26, by: 2).map { 1 << $0 } }
    let values = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 4 && ($0 ?? 0) <= 1 << 30 }) else {
      throw ValidationError("--sizes takes byte counts from 4 to 1 GiB, comma-separated (got \(sizes)).")
    }
    return values.compactMap { $0 }
  }
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
#else
/// Without the package trait `MPI`, no subcommands are added.
let distributedSubcommands: [any ParsableCommand.Type] = []
#endif
