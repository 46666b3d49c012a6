import CNNKernels

/// The numbers of one convolution layer as the seeds write them: an `H×W×C` input, `K`
/// filters of `F×F×C`, stride `S`, zero padding `P` (002, 003, 004).
///
/// Sizes come from ``ConvGeometry``; only arithmetic is done, so the seeds' 28×28 example and
/// much larger layers are fine. Each number is bounded (``ranges``) so that the products stay
/// far from overflow.
public struct LayerArithmetic: Sendable, Equatable {
  public var height: Int
  public var width: Int
  public var channels: Int
  public var filter: Int
  public var stride: Int
  public var padding: Int
  public var filters: Int

  /// The accepted range of each number, by its option name.
  public static let ranges: [(name: String, range: ClosedRange<Int>)] = [
    ("height", 1...16_384), ("width", 1...16_384), ("channels", 1...16_384), ("filter", 1...1_024),
    ("stride", 1...1_024), ("padding", 0...1_023), ("filters", 1...16_384),
  ]

  /// Checks every number against ``ranges``, the padding against the filter, and the filter
  /// against the padded input.
  /// - Throws: ``ExplainInputError`` naming the number and its valid range.
  public init(
    height: Int, width: Int, channels: Int, filter: Int, stride: Int, padding: Int, filters: Int
  ) throws(ExplainInputError) {
    let given = [height, width, channels, filter, stride, padding, filters]
    for ((name, range), value) in zip(Self.ranges, given) where !range.contains(value) {
      let what = name == "height" || name == "width" || name == "channels" ? "input \(name)" : "--\(name)"
      throw ExplainInputError("\(what) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
    }
    guard padding < filter else {
      throw ExplainInputError(
        "--padding must be in 0...\(filter - 1) (below the filter \(filter): a wider padding adds windows of zeros only), got \(padding)")
    }
    guard filter <= min(height, width) + 2 * padding else {
      throw ExplainInputError(
        "--filter must be in 1...\(min(height, width) + 2 * padding) (the padded input is \(height + 2 * padding)×\(width + 2 * padding)), got \(filter)")
    }
    (self.height, self.width, self.channels) = (height, width, channels)
    (self.filter, self.stride, self.padding, self.filters) = (filter, stride, padding, filters)
  }

  /// The window geometry of one image.
  public var geometry: ConvGeometry {
    ConvGeometry(
      batch: 1, inputChannels: channels, inputHeight: height, inputWidth: width, kernelHeight: filter,
      kernelWidth: filter, strideHeight: stride, strideWidth: stride, padTop: padding, padBottom: padding,
      padLeft: padding, padRight: padding)
  }

  /// `OH = (H + 2P − F) / S + 1` (floor).
  public var outputHeight: Int { geometry.outputHeight }
  /// `OW = (W + 2P − F) / S + 1` (floor).
  public var outputWidth: Int { geometry.outputWidth }
  /// `F·F·C·K`.
  public var weightCount: Int { filter * filter * channels * filters }
  /// `F·F·C·K + K`.
  public var parameterCount: Int { weightCount + filters }
  /// `OH·OW·F·F·C·K`: multiply-adds for one image.
  public var multiplyAdds: Int { outputHeight * outputWidth * geometry.windowSize * filters }
}

/// Numbers given to `cnn explain` that cannot be explained; the message states the valid range.
public struct ExplainInputError: Error, CustomStringConvertible, Sendable, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

extension Explain {
  /// The layer arithmetic of a convolution: output size by the seeds' formula, every step
  /// shown, then the parameter count `F·F·C·K + K`, the im2col matrix and the work.
  ///
  /// The seeds' example, `28×28×1, F = 4, S = 2, P = 1, K = 64`, gives `14×14×64` and 1,088
  /// parameters.
  public static func layerArithmetic(_ layer: LayerArithmetic) -> String {
    let h = layer.height, w = layer.width, c = layer.channels, f = layer.filter
    let s = layer.stride, p = layer.padding, k = layer.filters
    let oh = layer.outputHeight, ow = layer.outputWidth
    var text = "Convolution layer arithmetic (the seeds' formula, 002-004):\n"
    text += "  input    H×W×C = \(h)×\(w)×\(c)\n"
    text += "  filters  K = \(k), each F×F×C = \(f)×\(f)×\(c); stride S = \(s); zero padding P = \(p)\n\n"
    text += "Output size:\n"
    for (name, size, out) in [("OH", h, oh), ("OW", w, ow)] {
      let span = size + 2 * p - f
      let letter = name == "OH" ? "H" : "W"
      text += "  \(name) = (\(letter) + 2P - F) / S + 1 = (\(size) + 2·\(p) - \(f)) / \(s) + 1 = \(span) / \(s) + 1 = \(out)"
      if span % s != 0 {
        text += "   (\(span) / \(s) rounds down: the last \(span % s) padded \(name == "OH" ? "rows" : "columns") are never reached)"
      }
      text += "\n"
    }
    text += "  output   OH×OW×K = \(oh)×\(ow)×\(k)   (\(thousands(oh * ow * k)) values per image)\n\n"
    text += "Parameters (pooling layers have none):\n"
    text += "  weights  F·F·C·K = \(f)·\(f)·\(c)·\(k) = \(thousands(layer.weightCount))\n"
    text += "  biases   K = \(thousands(k))\n"
    text += "  total    F·F·C·K + K = \(thousands(layer.parameterCount))\n\n"
    text += "As one matrix product (im2col):\n"
    text += "  each image unrolls into (OH·OW, F·F·C) = (\(thousands(oh * ow)), \(thousands(f * f * c))),\n"
    text += "  times the filters' (F·F·C, K) = (\(thousands(f * f * c)), \(thousands(k))),\n"
    text += "  gives (OH·OW, K) = (\(thousands(oh * ow)), \(thousands(k))): the output.\n"
    text += "  multiply-adds per image: OH·OW·F·F·C·K = \(thousands(layer.multiplyAdds))\n"
    return text
  }

  /// `1088` → `1,088`.
  static func thousands(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, character) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
      result.append(character)
    }
    return (value < 0 ? "-" : "") + result
  }
}
