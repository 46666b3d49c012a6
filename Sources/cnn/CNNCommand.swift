import ArgumentParser
import CNNKit
import Foundation

@main
struct CNNCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cnn",
    abstract: "Train, inspect, visualize and benchmark convolutional networks.",
    subcommands: [
      Train.self, Evaluate.self, Summary.self, Predict.self, Export.self, Visualize.self, Convolve.self, Explain.self,
      GradCheck.self, Benchmark.self,
    ])

  /// Parses and runs the command, then makes sure standard output got everything: a full disk
  /// under `cnn train --json > run.jsonl` exits 1 with the reason instead of 0.
  static func main() {
    main(nil)
    if let failure = Console.standardOutputFailure() {
      Console.error("Error: \(failure)\n")
      Foundation.exit(1)
    }
  }
}
