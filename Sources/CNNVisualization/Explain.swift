import CNNData
import CNNKernels

/// Step-by-step text renderings of the seeds' worked examples, for `cnn explain`: a kernel
/// sliding over an image, pooling of a small grid, and im2col's unrolled matrix.
///
/// Every final result is computed by the network's own kernels (`conv2DForward`,
/// `pool2DForward`, `im2col`); the steps show the same arithmetic by hand.
public enum Explain {
  /// How highlighted cells are marked.
  public enum Style: Sendable {
    /// `[ 1]` brackets, for files and pipes.
    case plain
    /// Reverse-video colour, for terminals.
    case ansi
  }

  /// The seeds' 5×5 binary image (002).
  public static let seedImage: [[Float]] = [
    [1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0],
  ]
  /// The seeds' 3×3 kernel (002).
  public static let seedKernel: [[Float]] = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
  /// A 4×4 grid for pooling (as in *Deep Learning from Scratch*, figure 7-14).
  public static let seedPoolingGrid: [[Float]] = [[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]]

  /// The widest zero border an explanation draws: each side of the padded grid is printed, so
  /// beyond a few dozen the text is unreadable (and a border of a million would take terabytes).
  public static let maximumPadding = 50

  // MARK: - Convolution

  /// The kernel sliding over the image one window at a time: each window highlighted, its
  /// products and sum, and the output filling in; then the whole output from `conv2DForward`.
  ///
  /// - Parameters:
  ///   - image: The input plane, rows top to bottom.
  ///   - kernel: The kernel, rows top to bottom.
  ///   - stride: The step between windows.
  ///   - padding: Zero rows and columns added on each side.
  ///   - style: How the current window is marked.
  public static func convolution(
    image: [[Float]] = seedImage, kernel: [[Float]] = seedKernel, stride: Int = 1, padding: Int = 0,
    style: Style = .plain
  ) -> String {
    precondition(
      (0...maximumPadding).contains(padding), "Explain.convolution: padding must be 0…\(maximumPadding), got \(padding)")
    let padded = pad(image, padding)
    let h = image.count, w = image[0].count, kh = kernel.count, kw = kernel[0].count
    let geometry = ConvGeometry(
      batch: 1, inputChannels: 1, inputHeight: h, inputWidth: w, kernelHeight: kh, kernelWidth: kw,
      strideHeight: stride, strideWidth: stride, padTop: padding, padBottom: padding, padLeft: padding, padRight: padding)
    if let problem = geometry.validationError { return "Cannot slide this kernel: \(problem)\n" }
    let oh = geometry.outputHeight, ow = geometry.outputWidth
    let result = convolve(image, kernel, geometry)

    var text = "Convolution: a \(kh)x\(kw) kernel slides over a \(h)x\(w) image"
    text += padding > 0 ? " padded with \(padding) zero\(padding == 1 ? "" : "s") on each side" : ""
    text += ", stride \(stride).\n"
    text += "Output size: OH = (H + 2P - FH) / S + 1 = (\(h) + \(2 * padding) - \(kh)) / \(stride) + 1 = \(oh), "
    text += "OW = (\(w) + \(2 * padding) - \(kw)) / \(stride) + 1 = \(ow).\n\n"
    text += sideBySide([("image" + (padding > 0 ? " (padded)" : ""), grid(padded, style: style)), ("kernel", grid(kernel, style: style))])

    var partial = [[Float?]](repeating: [Float?](repeating: nil, count: ow), count: oh)
    var step = 0
    for y in 0..<oh {
      for x in 0..<ow {
        step += 1
        let top = y * stride, left = x * stride
        var terms: [String] = []
        var sum: Float = 0
        for i in 0..<kh {
          for j in 0..<kw {
            let value = padded[top + i][left + j]
            terms.append("\(number(value))*\(number(kernel[i][j]))")
            sum += value * kernel[i][j]
          }
        }
        partial[y][x] = sum
        let window = Set((0..<kh).flatMap { i in (0..<kw).map { j in Cell(row: top + i, column: left + j) } })
        text += "\nStep \(step) of \(oh * ow): window at row \(top), column \(left)\n"
        text += sideBySide([
          ("image", grid(padded, highlighted: window, style: style)),
          ("output", grid(partial, highlighted: [Cell(row: y, column: x)], style: style)),
        ])
        text += "  " + terms.joined(separator: " + ") + " = \(number(sum))\n"
      }
    }
    text += "\nResult (conv2DForward, the kernel the network uses):\n" + grid(result, style: style) + "\n"
    return text
  }

  /// `conv2DForward` on one plane.
  static func convolve(_ image: [[Float]], _ kernel: [[Float]], _ geometry: ConvGeometry) -> [[Float]] {
    let input = image.flatMap { $0 }, weight = kernel.flatMap { $0 }
    var output = [Float](repeating: 0, count: geometry.outputPlaneSize)
    input.withUnsafeBufferPointer { x in
      weight.withUnsafeBufferPointer { w in
        output.withUnsafeMutableBufferPointer { y in
          guard let xp = x.baseAddress, let wp = w.baseAddress, let yp = y.baseAddress else { return }
          conv2DForward(input: xp, weight: wp, bias: nil, output: yp, geometry: geometry, outputChannels: 1, threads: 1)
        }
      }
    }
    return rows(output, width: geometry.outputWidth)
  }

  // MARK: - Pooling

  /// Max, average and min pooling of a grid, window by window, then the results of
  /// `pool2DForward` side by side.
  public static func pooling(
    grid values: [[Float]] = seedPoolingGrid, size: Int = 2, stride: Int = 2, modes: [PoolingMode] = [.max, .average, .min],
    style: Style = .plain
  ) -> String {
    let h = values.count, w = values[0].count
    let geometry = ConvGeometry(
      batch: 1, inputChannels: 1, inputHeight: h, inputWidth: w, kernelHeight: size, kernelWidth: size,
      strideHeight: stride, strideWidth: stride)
    if let problem = geometry.validationError { return "Cannot pool this grid: \(problem)\n" }
    let oh = geometry.outputHeight, ow = geometry.outputWidth
    var text = "Pooling: a \(size)x\(size) window, stride \(stride), over a \(h)x\(w) grid gives \(oh)x\(ow).\n"
    text += "No weights are learned, and each channel is pooled on its own.\n\n"
    text += grid(values, style: style) + "\n"
    var step = 0
    for y in 0..<oh {
      for x in 0..<ow {
        step += 1
        let top = y * stride, left = x * stride
        let window = (0..<size).flatMap { i in (0..<size).map { j in values[top + i][left + j] } }
        let cells = Set((0..<size).flatMap { i in (0..<size).map { j in Cell(row: top + i, column: left + j) } })
        text += "\nWindow \(step) of \(oh * ow) (row \(top), column \(left)):\n"
        text += grid(values, highlighted: cells, style: style) + "\n"
        let list = window.map(number).joined(separator: ", ")
        for mode in modes {
          switch mode {
          case .max: text += "  max(\(list)) = \(number(window.max() ?? 0))\n"
          case .min: text += "  min(\(list)) = \(number(window.min() ?? 0))\n"
          case .average:
            let sum = window.reduce(0, +)
            text += "  average = (\(window.map(number).joined(separator: " + "))) / \(window.count) = \(number(sum / Float(window.count)))\n"
          }
        }
      }
    }
    text += "\nResults (pool2DForward, the kernel the network uses):\n"
    let results = modes.map { mode -> (title: String, body: String) in
      let input = values.flatMap { $0 }
      var output = [Float](repeating: 0, count: oh * ow)
      input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
          guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
          pool2DForward(input: xp, output: yp, geometry: geometry, mode: mode, argIndex: nil, threads: 1)
        }
      }
      return ("\(mode) pooling", grid(rows(output, width: ow), style: style))
    }
    return text + sideBySide(results)
  }

  // MARK: - im2col

  /// The im2col matrix of a small input: each sliding window unrolled into one row, so that a
  /// convolution becomes one matrix product. Input values are `1, 2, 3, …` so every entry
  /// shows where it came from; the rows of window `highlightedRow` and the input cells they
  /// read are marked.
  public static func im2colMatrix(
    batch: Int = 1, channels: Int = 2, height: Int = 4, width: Int = 4, kernel: Int = 3, stride: Int = 1,
    padding: Int = 0, highlightedRow: Int = 0, style: Style = .plain
  ) -> String {
    let geometry = ConvGeometry(
      batch: batch, inputChannels: channels, inputHeight: height, inputWidth: width, kernelHeight: kernel,
      kernelWidth: kernel, strideHeight: stride, strideWidth: stride, padTop: padding, padBottom: padding,
      padLeft: padding, padRight: padding)
    if let problem = geometry.validationError { return "Cannot unroll this input: \(problem)\n" }
    let oh = geometry.outputHeight, ow = geometry.outputWidth
    let rowCount = batch * oh * ow, columnCount = geometry.windowSize
    let input = (0..<(batch * channels * height * width)).map { Float($0 + 1) }
    var columns = [Float](repeating: 0, count: rowCount * columnCount)
    input.withUnsafeBufferPointer { x in
      columns.withUnsafeMutableBufferPointer { c in
        guard let xp = x.baseAddress, let cp = c.baseAddress else { return }
        im2col(input: xp, columns: cp, geometry: geometry, threads: 1)
      }
    }
    let row = min(max(0, highlightedRow), rowCount - 1)
    let n = row / (oh * ow), oy = row % (oh * ow) / ow, ox = row % ow
    var text = "im2col: input (N, C, H, W) = (\(batch), \(channels), \(height), \(width)), "
    text += "filter \(kernel)x\(kernel), stride \(stride), padding \(padding).\n"
    text += "OH = (\(height) + \(2 * padding) - \(kernel)) / \(stride) + 1 = \(oh), OW = \(ow); "
    text += "the matrix is (N*OH*OW, C*FH*FW) = (\(batch)*\(oh)*\(ow), \(channels)*\(kernel)*\(kernel)) = (\(rowCount), \(columnCount)).\n"
    text += "Row \(row) is window (n \(n), oh \(oy), ow \(ox)); its input cells and its row are marked.\n\n"

    for image in 0..<batch {
      var planes: [(String, String)] = []
      for c in 0..<channels {
        let start = (image * channels + c) * height * width
        let plane = rows(Array(input[start..<(start + height * width)]), width: width)
        var cells = Set<Cell>()
        if image == n {
          for i in 0..<kernel {
            for j in 0..<kernel {
              let y = oy * stride - padding + i, x = ox * stride - padding + j
              if y >= 0 && y < height && x >= 0 && x < width { cells.insert(Cell(row: y, column: x)) }
            }
          }
        }
        planes.append(("n=\(image) c=\(c)", grid(plane, highlighted: cells, style: style)))
      }
      text += sideBySide(planes) + "\n"
    }
    let matrix = rows(columns, width: columnCount)
    let cellWidth = (matrix.joined().map { number($0).count }.max() ?? 1) + 1
    var header = String(repeating: " ", count: 14)
    for c in 0..<channels {
      let label = "c=\(c)"
      let span = kernel * kernel * cellWidth
      header += label + String(repeating: " ", count: max(1, span - label.count))
    }
    text += header + "\n"
    for (index, values) in matrix.enumerated() {
      let label = "(\(index / (oh * ow)),\(index % (oh * ow) / ow),\(index % ow))"
      let marker = index == row ? (style == .plain ? "=> " : "   ") : "   "
      let cells = values.map { pad(number($0), cellWidth) }.joined()
      let line = marker + pad(label, 10) + " " + cells
      text += (index == row ? highlight(line, style: style, plainMarks: false) : line) + "\n"
    }
    text += "\nRows are labelled (n, oh, ow); columns run over (c, kh, kw). Zeros in a row come from the padding.\n"
    text += "A convolution with K filters is then this matrix times the (C*FH*FW, K) matrix of the filters.\n"
    return text
  }

  // MARK: - Formatting

  struct Cell: Hashable {
    var row: Int
    var column: Int
  }

  /// `4`, `-1`, `0.5`, `0.33`.
  static func number(_ value: Float) -> String {
    if value == value.rounded() && abs(value) < 1e7 { return String(Int(value)) }
    return fixed(Double(value), decimals: 2)
  }

  static func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
  }

  static func pad(_ image: [[Float]], _ padding: Int) -> [[Float]] {
    guard padding > 0 else { return image }
    let width = image[0].count + 2 * padding
    let zeros = [Float](repeating: 0, count: width)
    let edge = [Float](repeating: 0, count: padding)
    return [[Float]](repeating: zeros, count: padding) + image.map { edge + $0 + edge }
      + [[Float]](repeating: zeros, count: padding)
  }

  static func rows(_ values: [Float], width: Int) -> [[Float]] {
    stride(from: 0, to: values.count, by: width).map { Array(values[$0..<($0 + width)]) }
  }

  static func grid(_ values: [[Float]], highlighted: Set<Cell> = [], style: Style) -> String {
    grid(values.map { $0.map { Optional($0) } }, highlighted: highlighted, style: style)
  }

  /// A grid of numbers, `nil` shown as `.`, highlighted cells in brackets or reverse video.
  static func grid(_ values: [[Float?]], highlighted: Set<Cell> = [], style: Style) -> String {
    let width = values.joined().map { $0.map(number)?.count ?? 1 }.max() ?? 1
    return values.enumerated().map { y, row in
      row.enumerated().map { x, value in
        let text = pad(value.map(number) ?? ".", width)
        return highlighted.contains(Cell(row: y, column: x)) ? highlight(text, style: style) : " \(text) "
      }.joined()
    }.joined(separator: "\n")
  }

  /// `[text]` (plain) or `text` in reverse-video yellow (ANSI), same visible width as ` text `.
  static func highlight(_ text: String, style: Style, plainMarks: Bool = true) -> String {
    switch style {
    case .plain: return plainMarks ? "[\(text)]" : text
    case .ansi: return "\u{1B}[1;30;43m" + (plainMarks ? " \(text) " : text) + "\u{1B}[0m"
    }
  }

  /// Blocks of text side by side under their titles.
  static func sideBySide(_ blocks: [(title: String, body: String)]) -> String {
    let split = blocks.map { [$0.title] + $0.body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    let widths = split.map { lines in lines.map(visibleWidth).max() ?? 0 }
    let height = split.map(\.count).max() ?? 0
    var out: [String] = []
    for line in 0..<height {
      var text = ""
      for (index, lines) in split.enumerated() {
        let cell = line < lines.count ? lines[line] : ""
        text += cell
        if index < split.count - 1 { text += String(repeating: " ", count: widths[index] - visibleWidth(cell) + 4) }
      }
      out.append(text)
    }
    return out.joined(separator: "\n") + "\n"
  }

  /// Characters shown, not counting ANSI escape sequences.
  static func visibleWidth(_ text: String) -> Int {
    var count = 0, inEscape = false
    for character in text {
      if character == "\u{1B}" {
        inEscape = true
      } else if inEscape {
        if character == "m" { inEscape = false }
      } else {
        count += 1
      }
    }
    return count
  }
}
