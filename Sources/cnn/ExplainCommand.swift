import ArgumentParser
import CNNKit
import Foundation

extension PoolingMode: ExpressibleByArgument {}

/// `cnn explain`: the seeds' worked examples, step by step, in the terminal.
struct Explain: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show convolution, pooling, im2col and col2im step by step, and a layer's arithmetic.",
    subcommands: [Conv.self, Pool.self, LayerShape.self, Col2Im.self])

  /// When to colour the highlighted cells.
  enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    /// ANSI colour when asked, or (auto) when standard output is a terminal.
    var style: CNNVisualization.Explain.Style {
      switch self {
      case .always: return .ansi
      case .never: return .plain
      case .auto: return isatty(STDOUT_FILENO) != 0 ? .ansi : .plain
      }
    }
  }

  /// `cnn explain conv`.
  struct Conv: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Slide a kernel over an image window by window (the seeds' 5×5 example by default).",
      discussion: """
        Rows are separated by ';' and values by ',':
          cnn explain conv
          cnn explain conv --image '1,2,0;0,1,3;2,2,1' --kernel '1,0;0,-1' --padding 1
          cnn explain conv --im2col --channels 2 --size 4 --filter 3 --window 3
        With --im2col, prints the unrolled (N·OH·OW, C·FH·FW) matrix instead, with the rows \
        of one window and the input cells they read highlighted.
        """)

    @Option(help: "The image rows (default: the seeds' 5×5 binary image).")
    var image: String?

    @Option(help: "The kernel rows (default: the seeds' [[1,0,1],[0,1,0],[1,0,1]]).")
    var kernel: String?

    @Option(help: "The step between windows.")
    var stride: Int = 1

    @Option(help: "Zero rows and columns added on each side.")
    var padding: Int = 0

    @Flag(help: "Show im2col's unrolled matrix instead of the sliding steps.")
    var im2col = false

    @Option(help: "im2col: images N.")
    var batch: Int = 1

    @Option(help: "im2col: channels C.")
    var channels: Int = 2

    @Option(help: "im2col: image height and width H = W.")
    var size: Int = 4

    @Option(help: "im2col: filter height and width FH = FW.")
    var filter: Int = 3

    @Option(help: "im2col: the matrix row (window) to highlight.")
    var window: Int = 0

    @Option(help: "Colour the highlights: auto (when the output is a terminal), always or never.")
    var color: ColorChoice = .auto

    func validate() throws {
      guard stride >= 1 else { throw ValidationError("--stride must be at least 1 (got \(stride)).") }
      guard (0...CNNVisualization.Explain.maximumPadding).contains(padding) else {
        throw ValidationError("--padding must be 0 to \(CNNVisualization.Explain.maximumPadding) (got \(padding)); wider borders are unreadable.")
      }
      if im2col {
        guard batch >= 1, channels >= 1, size >= 1, filter >= 1, batch * channels * size * size <= 400 else {
          throw ValidationError("im2col needs positive sizes, and at most 400 input values to stay readable.")
        }
      }
      _ = try image.map { try parseGrid($0, "--image") }
      _ = try kernel.map { try parseGrid($0, "--kernel") }
    }

    func run() throws {
      if im2col {
        print(
          CNNVisualization.Explain.im2colMatrix(
            batch: batch, channels: channels, height: size, width: size, kernel: filter, stride: stride,
            padding: padding, highlightedRow: window, style: color.style), terminator: "")
        return
      }
      let grid = try image.map { try parseGrid($0, "--image") } ?? CNNVisualization.Explain.seedImage
      let weights = try kernel.map { try parseGrid($0, "--kernel") } ?? CNNVisualization.Explain.seedKernel
      print(
        CNNVisualization.Explain.convolution(
          image: grid, kernel: weights, stride: stride, padding: padding, style: color.style), terminator: "")
    }
  }

  /// `cnn explain pool`.
  struct Pool: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Pool a small grid window by window: max, average and min.",
      discussion: """
          cnn explain pool
          cnn explain pool --mode max --grid '1,3,2,9;7,4,1,5;8,6,3,2;0,1,4,6' --size 2 --stride 2
          cnn explain pool --backward
        With --backward, shows where the gradient of each output goes instead.
        """)

    @Option(help: "The grid rows, separated by ';' (default: a 4×4 grid).")
    var grid: String?

    @Option(help: "The window side.")
    var size: Int = 2

    @Option(help: "The step between windows.")
    var stride: Int = 2

    @Option(help: "max, average or min (default: all three).")
    var mode: PoolingMode?

    @Flag(help: "Show the backward pass: where each output's gradient goes.")
    var backward = false

    @Option(help: "Colour the highlights: auto (when the output is a terminal), always or never.")
    var color: ColorChoice = .auto

    func validate() throws {
      guard size >= 1, stride >= 1 else { throw ValidationError("--size and --stride must be at least 1.") }
      _ = try grid.map { try parseGrid($0, "--grid") }
    }

    func run() throws {
      let values = try grid.map { try parseGrid($0, "--grid") } ?? CNNVisualization.Explain.seedPoolingGrid
      if backward {
        print(
          CNNVisualization.Explain.poolingBackward(
            grid: values, size: size, stride: stride, modes: mode.map { [$0] } ?? PoolingMode.allCases,
            style: color.style), terminator: "")
        return
      }
      print(
        CNNVisualization.Explain.pooling(
          grid: values, size: size, stride: stride, modes: mode.map { [$0] } ?? PoolingMode.allCases,
          style: color.style), terminator: "")
    }
  }
}

/// `"1,0,1;0,1,0"` → `[[1, 0, 1], [0, 1, 0]]`; rows must have equal lengths.
private func parseGrid(_ text: String, _ option: String) throws -> [[Float]] {
  let rows = text.split(separator: ";").map { row in
    row.split(whereSeparator: { $0 == "," || $0 == " " }).map { Float($0) }
  }
  guard !rows.isEmpty, rows.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 != nil } }),
    rows.allSatisfy({ $0.count == rows[0].count }), rows.count * rows[0].count <= 400
  else {
    throw ValidationError("\(option) must be rows of numbers separated by ';' and ',', all rows the same length (at most 400 values), e.g. '1,0,1;0,1,0;1,0,1'.")
  }
  return rows.map { $0.compactMap { $0 } }
}
