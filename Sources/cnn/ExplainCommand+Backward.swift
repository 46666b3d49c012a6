import ArgumentParser
import CNNKit

extension Explain {
  /// `cnn explain shape`.
  struct LayerShape: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "shape",
      abstract: "Work out a convolution layer's output size and parameter count from any numbers.",
      discussion: """
        The input is written H×W×C, as the seeds write it:
          cnn explain shape --input 28x28x1 --filter 4 --stride 2 --padding 1 --filters 64
        gives 14×14×64 and F·F·C·K + K = 1,088 parameters.
        """)

    @Option(help: "The input H×W×C (e.g. 28x28x1); H, W and C in 1...16384.")
    var input: String

    @Option(help: "The filter side F (1...1024).")
    var filter: Int

    @Option(help: "The stride S (1...1024).")
    var stride: Int = 1

    @Option(help: "Zero padding P on each side (0...F-1).")
    var padding: Int = 0

    @Option(help: "The number of filters K, the output channels (1...16384).")
    var filters: Int = 1

    func validate() throws { _ = try arithmetic() }

    func run() throws { print(CNNVisualization.Explain.layerArithmetic(try arithmetic()), terminator: "") }

    private func arithmetic() throws -> LayerArithmetic {
      let parts = input.split(omittingEmptySubsequences: false) { $0 == "x" || $0 == "×" || $0 == "X" || $0 == "," }
      let values = parts.compactMap { Int($0) }
      guard parts.count == 3, values.count == 3 else {
        throw ValidationError("--input must be H×W×C, three whole numbers such as 28x28x1, got '\(input)'.")
      }
      do {
        return try LayerArithmetic(
          height: values[0], width: values[1], channels: values[2], filter: filter, stride: stride, padding: padding,
          filters: filters)
      } catch {
        throw ValidationError("\(error).")
      }
    }
  }

  /// `cnn explain col2im`.
  struct Col2Im: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "col2im",
      abstract: "Fold gradient columns back into an image, adding where windows overlap.",
      discussion: """
          cnn explain col2im
          cnn explain col2im --size 4 --filter 3 --stride 1 --padding 1
        """)

    @Option(help: "Channels C (1...4).")
    var channels: Int = 1

    @Option(help: "Image height and width H = W (1...12).")
    var size: Int = 3

    @Option(help: "Filter height and width F (above the padding, at most H + 2P).")
    var filter: Int = 2

    @Option(help: "The step between windows (1...4).")
    var stride: Int = 1

    @Option(help: "Zero rows and columns on each side (0...3).")
    var padding: Int = 0

    @Option(help: "Colour the highlights: auto (when the output is a terminal), always or never.")
    var color: ColorChoice = .auto

    func validate() throws {
      do {
        try CNNVisualization.Explain.checkCol2im(
          channels: channels, size: size, filter: filter, stride: stride, padding: padding)
      } catch {
        throw ValidationError("\(error).")
      }
    }

    func run() throws {
      print(
        CNNVisualization.Explain.col2im(
          channels: channels, size: size, filter: filter, stride: stride, padding: padding, style: color.style),
        terminator: "")
    }
  }
}
