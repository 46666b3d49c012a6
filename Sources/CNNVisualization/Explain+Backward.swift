import CNNKernels

// The backward passes of `cnn explain`: where pooling sends its gradient, and how col2im folds
// gradient columns back into an image. As in the forward explanations, every result is
// computed by the network's own kernels (`pool2DBackward`, `col2im`) and the steps redo the
// arithmetic by hand; a disagreement would be printed as MISMATCH.

extension Explain {
  // MARK: - Pooling backward

  /// `∂L/∂input` of one pooling plane for the upstream gradient `dOutput`, computed by
  /// `pool2DForward` then `pool2DBackward`: max and min pooling send each gradient to their
  /// window's winner, average pooling spreads it as `dOutput / (k·k)` over the window.
  public static func poolingGradient(
    grid values: [[Float]], size: Int, stride: Int, mode: PoolingMode, dOutput: [[Float]]
  ) -> [[Float]] {
    let geometry = poolingGeometry(values, size: size, stride: stride)
    precondition(geometry.validationError == nil, "poolingGradient: \(geometry.validationError ?? "")")
    precondition(
      dOutput.count == geometry.outputHeight && dOutput.allSatisfy { $0.count == geometry.outputWidth },
      "poolingGradient: dOutput must be \(geometry.outputHeight)x\(geometry.outputWidth)")
    let input = values.flatMap { $0 }, gradient = dOutput.flatMap { $0 }
    var output = [Float](repeating: 0, count: geometry.outputPlaneSize)
    var winners = [Int32](repeating: 0, count: geometry.outputPlaneSize)
    var dInput = [Float](repeating: 0, count: geometry.inputPlaneSize)
    input.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        winners.withUnsafeMutableBufferPointer { index in
          guard let xp = x.baseAddress, let yp = y.baseAddress, let ip = index.baseAddress else { return }
          pool2DForward(input: xp, output: yp, geometry: geometry, mode: mode, argIndex: ip, threads: 1)
        }
      }
    }
    gradient.withUnsafeBufferPointer { dy in
      dInput.withUnsafeMutableBufferPointer { dx in
        winners.withUnsafeBufferPointer { index in
          guard let dyp = dy.baseAddress, let dxp = dx.baseAddress, let ip = index.baseAddress else { return }
          pool2DBackward(dOutput: dyp, dInput: dxp, geometry: geometry, mode: mode, argIndex: ip, threads: 1)
        }
      }
    }
    return rows(dInput, width: geometry.inputWidth)
  }

  /// The upstream gradient the explanation uses by default: `1, 2, 3, …` over the output, so
  /// every value shows where it went.
  public static func sequentialGradient(height: Int, width: Int) -> [[Float]] {
    (0..<height).map { y in (0..<width).map { x in Float(y * width + x + 1) } }
  }

  /// Pooling's backward pass window by window: the gradient of each output cell routed to
  /// the window's max or min, or spread over it by `1/(k·k)` for the average; then
  /// `∂L/∂input` from `pool2DBackward` for each mode.
  public static func poolingBackward(
    grid values: [[Float]] = seedPoolingGrid, size: Int = 2, stride: Int = 2,
    modes: [PoolingMode] = [.max, .average, .min], dOutput: [[Float]]? = nil, style: Style = .plain
  ) -> String {
    let geometry = poolingGeometry(values, size: size, stride: stride)
    if let problem = geometry.validationError { return "Cannot pool this grid: \(problem)\n" }
    let h = geometry.inputHeight, w = geometry.inputWidth, oh = geometry.outputHeight, ow = geometry.outputWidth
    let upstream = dOutput ?? sequentialGradient(height: oh, width: ow)
    guard upstream.count == oh, upstream.allSatisfy({ $0.count == ow }) else {
      return "Cannot pool this grid: the upstream gradient must be \(oh)x\(ow)\n"
    }
    var text = "Pooling backward: a \(size)x\(size) window, stride \(stride), over a \(h)x\(w) grid gives \(oh)x\(ow).\n"
    text += "The upstream gradient dL/dOutput arrives one value per output cell; the backward pass sends it\n"
    text += "back to the window it came from. Pooling has no weights, so this is its only gradient.\n"
    text += "  max:     all of it to the window's largest value (the others did not affect the output)\n"
    text += "  average: an equal share, 1/(k*k) = 1/\(size * size), to every cell of the window\n"
    text += "  min:     all of it to the window's smallest value\n"
    text += "Where windows overlap (stride < window) a cell adds up the gradients of every window it wins or is in.\n\n"
    text += sideBySide([("input", grid(values, style: style)), ("dL/dOutput", grid(upstream, style: style))]) + "\n"

    for mode in modes {
      var routed = [[Float]](repeating: [Float](repeating: 0, count: w), count: h)
      text += "\(mode) pooling, backward:\n"
      for y in 0..<oh {
        for x in 0..<ow {
          let top = y * stride, left = x * stride, g = upstream[y][x]
          let cells = (0..<size).flatMap { i in (0..<size).map { j in Cell(row: top + i, column: left + j) } }
          let windowName = "window (row \(top), column \(left))"
          switch mode {
          case .max, .min:
            // Ties go to the first cell in scan order, as in the kernel.
            var best = cells[0]
            for cell in cells.dropFirst() {
              let value = values[cell.row][cell.column], current = values[best.row][best.column]
              if mode == .max ? value > current : value < current { best = cell }
            }
            routed[best.row][best.column] += g
            text += "  \(windowName): \(mode) is \(number(values[best.row][best.column])) at (\(best.row), \(best.column))"
            text += " -> it gets \(number(g)), the other \(cells.count - 1) cells get 0\n"
          case .average:
            let share = g / Float(size * size)
            for cell in cells { routed[cell.row][cell.column] += share }
            text += "  \(windowName): \(number(g)) / \(size * size) = \(number(share)) to each of its \(cells.count) cells\n"
          }
        }
      }
      let kernel = poolingGradient(grid: values, size: size, stride: stride, mode: mode, dOutput: upstream)
      let agrees = zip(routed.joined(), kernel.joined()).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
      let highlighted = Set(
        kernel.enumerated().flatMap { y, row in row.enumerated().compactMap { x, v in v != 0 ? Cell(row: y, column: x) : nil } })
      text += sideBySide([
        ("dL/dInput (pool2DBackward)", grid(kernel, highlighted: highlighted, style: style)),
        ("by hand", grid(routed, style: style)),
      ])
      text += agrees ? "  The routing by hand matches pool2DBackward.\n\n" : "  MISMATCH between the routing by hand and pool2DBackward.\n\n"
    }
    return text
  }

  static func poolingGeometry(_ values: [[Float]], size: Int, stride: Int) -> ConvGeometry {
    ConvGeometry(
      batch: 1, inputChannels: 1, inputHeight: values.count, inputWidth: values.first?.count ?? 0, kernelHeight: size,
      kernelWidth: size, strideHeight: stride, strideWidth: stride)
  }

  // MARK: - col2im

  /// The limits of ``col2im(channels:size:filter:stride:padding:style:)``, to keep the matrix
  /// readable: `C·H·W` input cells and `(OH·OW)·(C·F·F)` matrix entries at most.
  public static let col2imLimits = (inputCells: 144, matrixEntries: 800)

  /// Checks the sizes of a col2im explanation.
  /// - Throws: ``ExplainInputError`` naming the valid range.
  public static func checkCol2im(channels: Int, size: Int, filter: Int, stride: Int, padding: Int) throws(ExplainInputError) {
    func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>, _ why: String = "") throws(ExplainInputError) {
      guard range.contains(value) else {
        throw ExplainInputError("--\(name) must be in \(range.lowerBound)...\(range.upperBound)\(why), got \(value)")
      }
    }
    try check("channels", channels, 1...4)
    try check("size", size, 1...12)
    try check("padding", padding, 0...3)
    try check("filter", filter, max(1, padding + 1)...(size + 2 * padding), " (above the padding, within the padded input)")
    try check("stride", stride, 1...4)
    let geometry = col2imGeometry(channels: channels, size: size, filter: filter, stride: stride, padding: padding)
    let entries = geometry.outputPlaneSize * geometry.windowSize
    guard channels * size * size <= col2imLimits.inputCells, entries <= col2imLimits.matrixEntries else {
      throw ExplainInputError(
        "the example must stay readable: at most \(col2imLimits.inputCells) input cells (C·H·W = \(channels * size * size)) "
          + "and \(col2imLimits.matrixEntries) matrix entries ((OH·OW)·(C·F·F) = \(entries)); use smaller sizes")
    }
  }

  static func col2imGeometry(channels: Int, size: Int, filter: Int, stride: Int, padding: Int) -> ConvGeometry {
    ConvGeometry(
      batch: 1, inputChannels: channels, inputHeight: size, inputWidth: size, kernelHeight: filter, kernelWidth: filter,
      strideHeight: stride, strideWidth: stride, padTop: padding, padBottom: padding, padLeft: padding, padRight: padding)
  }

  /// `col2im` of a `(N·OH·OW) × (C·KH·KW)` matrix (row-major), by the network's own kernel.
  public static func fold(columns: [Float], geometry: ConvGeometry) -> [Float] {
    precondition(geometry.validationError == nil, "fold: \(geometry.validationError ?? "")")
    precondition(columns.count == geometry.batch * geometry.outputPlaneSize * geometry.windowSize, "fold: wrong column count")
    var image = [Float](repeating: 0, count: geometry.batch * geometry.inputChannels * geometry.inputPlaneSize)
    columns.withUnsafeBufferPointer { c in
      image.withUnsafeMutableBufferPointer { x in
        guard let cp = c.baseAddress, let xp = x.baseAddress else { return }
        CNNKernels.col2im(columns: cp, input: xp, geometry: geometry, threads: 1)
      }
    }
    return image
  }

  /// col2im step by step on one small image: a matrix of gradient columns `1, 2, 3, …` (one
  /// row per window, as im2col made them), each entry sent back to the input cell it was
  /// copied from, overlapping windows adding up; then every cell's sum, the result of
  /// `col2im`, and how many windows cover each cell.
  ///
  /// Call ``checkCol2im(channels:size:filter:stride:padding:)`` first; sizes it refuses
  /// give a one-line explanation instead.
  public static func col2im(
    channels: Int = 1, size: Int = 3, filter: Int = 2, stride: Int = 1, padding: Int = 0, style: Style = .plain
  ) -> String {
    do {
      try checkCol2im(channels: channels, size: size, filter: filter, stride: stride, padding: padding)
    } catch {
      return "Cannot fold: \(error)\n"
    }
    let geometry = col2imGeometry(channels: channels, size: size, filter: filter, stride: stride, padding: padding)
    let oh = geometry.outputHeight, ow = geometry.outputWidth, window = geometry.windowSize
    let rowCount = oh * ow
    let columns = (0..<(rowCount * window)).map { Float($0 + 1) }
    let folded = fold(columns: columns, geometry: geometry)
    let coverage = fold(columns: [Float](repeating: 1, count: columns.count), geometry: geometry)

    var text = "col2im: the backward of im2col. Convolution's backward pass computes the gradient of im2col's matrix,\n"
    text += "(N·OH·OW, C·F·F) = (\(rowCount), \(window)), and col2im folds it back into the (C, H, W) = (\(channels), \(size), \(size)) image:\n"
    text += "every entry returns to the input cell it was copied from, and a cell read by several windows adds their values.\n"
    text += "Filter \(filter)x\(filter), stride \(stride), padding \(padding): OH = (\(size) + 2·\(padding) - \(filter)) / \(stride) + 1 = \(oh), OW = \(ow).\n"
    text += "Row (n, oh, ow), column (c, kh, kw) goes to input[n, c, oh·S - P + kh, ow·S - P + kw]"
    text += padding > 0 ? "; entries that land in the padding are dropped.\n\n" : ".\n\n"

    let matrix = rows(columns, width: window)
    let cellWidth = (columns.map { number($0).count }.max() ?? 1) + 1
    text += "Gradient columns (values 1, 2, 3, ... so each shows where it goes):\n"
    var header = String(repeating: " ", count: 12)
    for column in 0..<window {
      // A label over the first column of each channel; columns run over (c, kh, kw).
      header += pad(column % (filter * filter) == 0 ? "c\(column / (filter * filter))" : "", cellWidth)
    }
    text += header + "\n"
    for (index, values) in matrix.enumerated() {
      text += "  " + pad("(0,\(index / ow),\(index % ow))", 9) + " " + values.map { pad(number($0), cellWidth) }.joined() + "\n"
    }

    text += "\nEach input cell's sum:\n"
    var byHand = [Float](repeating: 0, count: folded.count)
    for c in 0..<channels {
      for y in 0..<size {
        for x in 0..<size {
          var terms: [String] = []
          var sum: Float = 0
          for row in 0..<rowCount {
            let oy = row / ow, ox = row % ow
            let kh = y + padding - oy * stride, kw = x + padding - ox * stride
            guard kh >= 0, kh < filter, kw >= 0, kw < filter else { continue }
            let value = matrix[row][(c * filter + kh) * filter + kw]
            terms.append(number(value))
            sum += value
          }
          byHand[(c * size + y) * size + x] = sum
          let label = channels > 1 ? "c\(c) (\(y), \(x))" : "(\(y), \(x))"
          text += "  \(label): " + (terms.isEmpty ? "no window reads it: 0" : terms.joined(separator: " + ") + " = \(number(sum))")
          text += terms.count > 1 ? "   (\(terms.count) windows)\n" : "\n"
        }
      }
    }
    let agrees = zip(byHand, folded).allSatisfy { $0 == $1 }
    text += "\n"
    var blocks: [(String, String)] = []
    for c in 0..<channels {
      let start = c * size * size
      let suffix = channels > 1 ? " c\(c)" : ""
      blocks.append(("col2im" + suffix, grid(rows(Array(folded[start..<(start + size * size)]), width: size), style: style)))
      blocks.append(
        ("windows per cell" + suffix, grid(rows(Array(coverage[start..<(start + size * size)]), width: size), style: style)))
    }
    text += sideBySide(blocks)
    text += agrees ? "The sums by hand match col2im.\n" : "MISMATCH between the sums by hand and col2im.\n"
    text += "With all-ones columns col2im counts the windows covering each cell (right): the cells the\n"
    text += "gradient reaches most often. im2col copies a cell into that many rows; col2im adds them back.\n"
    return text
  }
}
