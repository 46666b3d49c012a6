import ArgumentParser
import CNNKit

@main
struct CNNCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cnn",
    abstract: "Train, inspect and benchmark convolutional networks.",
    subcommands: [Train.self, Summary.self, Predict.self, Benchmark.self])
}
