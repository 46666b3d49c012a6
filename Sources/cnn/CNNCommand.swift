import ArgumentParser
import CNNKernels
import CNNKit
import Foundation

@main
struct CNNCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cnn",
    abstract: "Train, inspect, visualize and benchmark convolutional networks.",
    discussion: """
      Memory budget: before a model, a dataset or a picture is built from a size that came \
      from a file or an option, cnn computes what it will take and refuses, naming the value, \
      when that exceeds half of the physical memory. Set CNN_MEMORY_LIMIT to a number of \
      gigabytes to change the budget (CNN_MEMORY_LIMIT=64 cnn train …).
      """,
    subcommands: [
      Train.self, Evaluate.self, Summary.self, Predict.self, Export.self, Visualize.self, Convolve.self, Explain.self,
      GradCheck.self, Benchmark.self, Dashboard.self,
    ] + distributedSubcommands)

  /// Parses and runs the command, then makes sure standard output got everything: a full disk
  /// under `cnn train --json > run.jsonl` exits 1 with the reason instead of 0.
  static func main() {
    // Every command (inference, evaluation and benchmarks as much as training) reuses freed
    // activation blocks instead of faulting in fresh pages for each batch.
    MemoryTuning.reuseLargeAllocations()
    main(nil)
    if let failure = Console.standardOutputFailure() {
      Console.error("Error: \(failure)\n")
      Foundation.exit(1)
    }
  }
}
