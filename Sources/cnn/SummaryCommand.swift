import ArgumentParser
import CNNKit

/// `cnn summary`: a network's layers with their shapes, parameters and costs, and the
/// arithmetic behind each number.
struct Summary: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a network's layers: output shapes, parameters, multiply-accumulates and memory.",
    discussion: """
      Each row shows how the layer's output size follows from its input, \
      (H + 2P − K)/S + 1, and how its parameters add up, F·F·C·K + K, with the numbers \
      filled in. An input that leaves a layer with no output is reported with the layer's name.
      """)

  @Option(help: "The network: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
  var model: ModelName

  @Option(help: "The image shape C×H×W, each size 1 to 1048576, e.g. 3x227x227 (default: the network's own).")
  var input: ImageShape?

  @Option(help: "The number of classes (default: the network's own, 10 or 1000).")
  var classes: Int?

  @Flag(help: "Treat a window that does not tile its input exactly as an error.")
  var strict = false

  @Flag(help: "Write the summary as one JSON object, with total_parameters.")
  var json = false

  @Option(
    help: """
      The widest line of the table (default 120): a wider table prints each layer's arithmetic on an indented \
      line under its row; 0 keeps every column in the table.
      """)
  var width: Int = 120

  func validate() throws {
    if width < 0 { throw ValidationError("--width must be 0 or more (got \(width)).") }
    if let classes, !RunLimits.classes.contains(classes) {
      throw ValidationError("--classes must be 1 to \(RunLimits.classes.upperBound) (got \(classes)).")
    }
  }

  func run() throws {
    var generator = SeededGenerator(seed: 0)
    let summary: ModelSummary
    do {
      summary = try ModelSummary(
        model: model, inputShape: input?.shape, classCount: classes, strict: strict, using: &generator)
    } catch {
      throw SummaryFailure(model: model, input: input?.shape ?? model.defaultInputShape, error: error)
    }
    print(json ? summary.json : summary.table(width: width == 0 ? nil : width), terminator: "")
  }
}

/// A network that cannot take the requested input, explained.
struct SummaryFailure: Error, CustomStringConvertible {
  var model: ModelName
  var input: Shape
  var error: ModelSummaryError

  var description: String {
    let size = input.dimensions.map(String.init).joined(separator: "x")
    return "\(model.rawValue) cannot take a \(size) input: \(error)"
  }
}
