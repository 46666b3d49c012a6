import ArgumentParser
import CNNKit

@main
struct CNNCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cnn",
    abstract: "Train, inspect and benchmark convolutional networks.",
    subcommands: [])
}
