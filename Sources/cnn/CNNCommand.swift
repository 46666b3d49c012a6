import ArgumentParser
import CNNKit

@main
struct CNNCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cnn",
    abstract: "Train, inspect, visualize and benchmark convolutional networks.",
    subcommands: [
      Train.self, Evaluate.self, Summary.self, Predict.self, Export.self, Visualize.self, Convolve.self, Explain.self,
      Benchmark.self,
    ])
}
