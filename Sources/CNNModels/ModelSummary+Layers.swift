import CNNKernels
import CNNLayers
import CNNTensor

// How each kind of leaf layer explains itself in a `ModelSummary`: its settings and the
// arithmetic of its output size and parameters. Whether an input fits, and the output
// shape, are the layer's own `outputShape(for:)` (its `ShapeError` becomes the summary's
// `ModelSummaryError`); window sizes come from `ConvGeometry`, as everywhere else.

/// One leaf layer's contribution to a summary, for an input with its batch dimension.
struct LeafSummary {
  var kind: String
  /// With the batch dimension.
  var output: Shape
  var shapeFormula: String
  var parameters: Int
  var parameterFormula: String
  var multiplyAccumulates: Int
  /// Why a window does not tile its input exactly, if it does not.
  var inexact: String?
}

/// A layer that can describe itself to `ModelSummary`.
protocol SummarizableLayer: Layer {
  /// The type and settings, e.g. `Conv2D 3→96 11x11 s4 valid`.
  var summaryKind: String { get }
  /// The summary for `input` (with the batch dimension); throws the layer's own `ShapeError`
  /// when the input does not fit.
  func summarize(input: Shape) throws(ShapeError) -> LeafSummary
}

extension SummarizableLayer {
  /// A layer with no parameters and no formula to show: its output shape and nothing else.
  func shapeOnly(_ input: Shape) throws(ShapeError) -> LeafSummary {
    LeafSummary(
      kind: summaryKind, output: try outputShape(for: input), shapeFormula: "", parameters: 0, parameterFormula: "",
      multiplyAccumulates: 0, inexact: nil)
  }
}

/// `1,234,567`.
func grouped(_ value: Int) -> String {
  let digits = String(value.magnitude)
  var result = ""
  for (index, digit) in digits.enumerated() {
    if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
    result.append(digit)
  }
  return (value < 0 ? "-" : "") + result
}

// MARK: - Sliding windows

/// The output-size arithmetic of one dimension: `(227 + 2·0 − 11)/4 + 1 = 55`, with `⌊ ⌋`
/// when the division is not exact, and the remark to make then.
func windowFormula(
  input: Int, padBefore: Int, padAfter: Int, kernel: Int, stride: Int, output: Int, ceil: Bool = false
) -> (formula: String, inexact: String?) {
  let padding = padBefore == padAfter ? "2·\(padBefore)" : "\(padBefore) + \(padAfter)"
  let span = input + padBefore + padAfter - kernel
  let body = "\(input) + \(padding) − \(kernel)"
  let exact = span % stride == 0
  let quotient = "(\(body))/\(stride)"
  let rounded = exact ? quotient : (ceil ? "⌈\(quotient)⌉" : "⌊\(quotient)⌋")
  let formula = "\(rounded) + 1 = \(output)"
  guard !exact, !ceil else { return (formula, nil) }
  let remainder = span % stride
  let remark =
    "\(quotient) = \(span)/\(stride) is not a whole number; the window skips the last \(remainder) "
    + "\(remainder == 1 ? "row" : "rows") of the padded input (floor, as PyTorch)"
  return (formula, remark)
}

/// Both dimensions' arithmetic, written once when they agree.
func windowFormulas(
  _ g: ConvGeometry, ceil: Bool = false, heightPadding: (Int, Int)? = nil, widthPadding: (Int, Int)? = nil
)
  -> (formula: String, inexact: String?)
{
  let hp = heightPadding ?? (g.padTop, g.padBottom)
  let wp = widthPadding ?? (g.padLeft, g.padRight)
  let height = windowFormula(
    input: g.inputHeight, padBefore: hp.0, padAfter: hp.1, kernel: g.kernelHeight, stride: g.strideHeight,
    output: g.outputHeight, ceil: ceil)
  let width = windowFormula(
    input: g.inputWidth, padBefore: wp.0, padAfter: wp.1, kernel: g.kernelWidth, stride: g.strideWidth,
    output: g.outputWidth, ceil: ceil)
  if height.formula == width.formula { return (height.formula, height.inexact) }
  let remark = [height.inexact.map { "height: \($0)" }, width.inexact.map { "width: \($0)" }].compactMap { $0 }
  return ("H: \(height.formula); W: \(width.formula)", remark.isEmpty ? nil : remark.joined(separator: "; "))
}

/// `11x11 s4 valid`, omitting a stride of 1.
func windowSettings(kernel: Size2D, stride: Size2D, padding: Padding) -> String {
  var text = "\(kernel)"
  if stride != 1 { text += " s\(stride.height == stride.width ? "\(stride.height)" : "\(stride)")" }
  switch padding {
  case .valid: text += " valid"
  case .same: text += " same"
  case .explicit: text += " p\(padding)"
  }
  return text
}

extension Conv2D: SummarizableLayer {
  var summaryKind: String {
    "Conv2D \(inputChannels)→\(outputChannels) \(windowSettings(kernel: kernelSize, stride: stride, padding: padding))"
      + (groups > 1 ? " g\(groups)" : "") + (bias == nil ? " no-bias" : "")
  }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    let output = try outputShape(for: input)
    let g = try geometry(for: input)
    let (formula, inexact) = windowFormulas(g)
    let perGroup = inputChannels / groups
    let weights = kernelSize.height * kernelSize.width * perGroup * outputChannels
    var arithmetic = "\(kernelSize.height)·\(kernelSize.width)·\(perGroup)·\(outputChannels)"
    if bias != nil { arithmetic += " + \(outputChannels)" }
    let parameters = weights + (bias == nil ? 0 : outputChannels)
    return LeafSummary(
      kind: summaryKind, output: output, shapeFormula: formula, parameters: parameters, parameterFormula: "\(arithmetic) = \(grouped(parameters))",
      multiplyAccumulates: weights * g.outputHeight * g.outputWidth, inexact: inexact)
  }
}

extension Pool2D: SummarizableLayer {
  var summaryKind: String {
    let name: String
    switch mode {
    case .max: name = "MaxPool2D"
    case .average: name = "AvgPool2D"
    case .min: name = "MinPool2D"
    }
    return "\(name) \(windowSettings(kernel: kernelSize, stride: stride, padding: padding))"
  }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    let output = try outputShape(for: input)
    let (formula, inexact) = windowFormulas(try geometry(for: input))
    return LeafSummary(
      kind: summaryKind, output: output, shapeFormula: formula,
      parameters: 0, parameterFormula: "", multiplyAccumulates: 0, inexact: inexact)
  }
}

extension CeilModeMaxPool2D: SummarizableLayer {
  var summaryKind: String {
    "MaxPool2D \(kernelSize)x\(kernelSize)\(stride != 1 ? " s\(stride)" : "") p\(padding) ceil"
  }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    let output = try outputShape(for: input)
    let g = try pool(for: input).geometry(for: input)
    func formula(_ size: Int, _ output: Int) -> String {
      var text = windowFormula(
        input: size, padBefore: padding, padAfter: padding, kernel: kernelSize, stride: stride, output: output,
        ceil: true
      ).formula
      let numerator = size + 2 * padding - kernelSize + stride - 1
      let rounded = (numerator >= 0 ? numerator / stride : (numerator - stride + 1) / stride) + 1
      if rounded != output, let equals = text.lastIndex(of: "=") {
        // PyTorch drops a last window that would start beyond the input and its left padding.
        text.replaceSubrange(equals..<equals, with: "− 1 ")
      }
      return text
    }
    let (height, width) = (formula(input[2], g.outputHeight), formula(input[3], g.outputWidth))
    return LeafSummary(
      kind: summaryKind, output: output, shapeFormula: height == width ? height : "H: \(height); W: \(width)",
      parameters: 0, parameterFormula: "", multiplyAccumulates: 0, inexact: nil)
  }
}

extension AdaptiveAvgPool2D: SummarizableLayer {
  var summaryKind: String { "AdaptiveAvgPool2D \(outputSize)" }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    let output = try outputShape(for: input)
    func describe(_ inputCount: Int, _ outputCount: Int) -> String {
      let widths = (0..<outputCount).map { Self.window($0, outputCount: outputCount, inputCount: inputCount).count }
      let (low, high) = (widths.min() ?? 0, widths.max() ?? 0)
      return "\(inputCount) → \(outputCount) (windows ⌊i·\(inputCount)/\(outputCount)⌋ ..< "
        + "⌈(i+1)·\(inputCount)/\(outputCount)⌉, \(low == high ? "\(low)" : "\(low)–\(high)") wide)"
    }
    let height = describe(input[2], outputSize.height)
    let width = describe(input[3], outputSize.width)
    return LeafSummary(
      kind: summaryKind, output: output, shapeFormula: height == width ? height : "H: \(height); W: \(width)", parameters: 0, parameterFormula: "",
      multiplyAccumulates: 0, inexact: nil)
  }
}

extension GlobalAvgPool2D: SummarizableLayer {
  var summaryKind: String { "GlobalAvgPool2D" }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    let output = try outputShape(for: input)
    return LeafSummary(
      kind: summaryKind, output: output, shapeFormula: "mean over \(input[2])×\(input[3]) → \(input[1])",
      parameters: 0, parameterFormula: "", multiplyAccumulates: 0, inexact: nil)
  }
}

extension Linear: SummarizableLayer {
  var summaryKind: String { "Linear \(inputFeatures)→\(outputFeatures)" + (bias == nil ? " no-bias" : "") }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    let output = try outputShape(for: input)
    let weights = inputFeatures * outputFeatures
    let parameters = weights + (bias == nil ? 0 : outputFeatures)
    let arithmetic = "\(inputFeatures)·\(outputFeatures)" + (bias == nil ? "" : " + \(outputFeatures)")
    return LeafSummary(
      kind: summaryKind, output: output, shapeFormula: "",
      parameters: parameters, parameterFormula: "\(arithmetic) = \(grouped(parameters))",
      multiplyAccumulates: weights, inexact: nil)
  }
}

extension Flatten: SummarizableLayer {
  var summaryKind: String { "Flatten" }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    let output = try outputShape(for: input)
    let factors = input.dimensions.dropFirst()
    return LeafSummary(
      kind: summaryKind, output: output,
      shapeFormula: factors.count > 1 ? "\(factors.map(String.init).joined(separator: "·")) = \(output[1])" : "",
      parameters: 0, parameterFormula: "", multiplyAccumulates: 0, inexact: nil)
  }
}

extension BatchNorm2D: SummarizableLayer {
  var summaryKind: String { "BatchNorm2D \(featureCount)" + (epsilon != 1e-5 ? " ε=\(epsilon)" : "") }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    var leaf = try shapeOnly(input)
    leaf.parameters = 2 * featureCount
    leaf.parameterFormula = "2·\(featureCount) = \(grouped(2 * featureCount))"
    return leaf
  }
}

extension LocalResponseNorm: SummarizableLayer {
  var summaryKind: String { "LocalResponseNorm n=\(size)" }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    try shapeOnly(input)
  }
}

extension Dropout: SummarizableLayer {
  var summaryKind: String { "Dropout \(rate)" }
  func summarize(input: Shape) throws(ShapeError) -> LeafSummary { try shapeOnly(input) }
}

extension ReLU: SummarizableLayer {
  var summaryKind: String { "ReLU" }
  func summarize(input: Shape) throws(ShapeError) -> LeafSummary { try shapeOnly(input) }
}

extension Sigmoid: SummarizableLayer {
  var summaryKind: String { "Sigmoid" }
  func summarize(input: Shape) throws(ShapeError) -> LeafSummary { try shapeOnly(input) }
}

extension Tanh: SummarizableLayer {
  var summaryKind: String { "Tanh" }
  func summarize(input: Shape) throws(ShapeError) -> LeafSummary { try shapeOnly(input) }
}

extension EuclideanRBF: SummarizableLayer {
  var summaryKind: String { "EuclideanRBF \(codes.shape[1])→\(codes.shape[0]) fixed codes" }

  func summarize(input: Shape) throws(ShapeError) -> LeafSummary {
    var leaf = try shapeOnly(input)
    leaf.shapeFormula = "−Σ(x − code)² per class"
    leaf.parameterFormula = "\(codes.shape[0])·\(codes.shape[1]) fixed = 0"
    leaf.multiplyAccumulates = codes.shape[0] * codes.shape[1]
    return leaf
  }
}
