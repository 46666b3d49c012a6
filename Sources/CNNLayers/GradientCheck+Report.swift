import CNNTensor

/// How a gradient-check row is judged, by its relative error.
public enum GradientCheckVerdict: String, Sendable, Comparable {
  /// Error at most ``okLimit``: what correct Float32 pullbacks give at ε = 1e-3.
  case ok
  /// Error above ``okLimit`` and at most ``wrongLimit``: often a probe crossing a kink
  /// (ReLU, max pooling) in a deep network; worth a second look.
  case suspicious
  /// Error above ``wrongLimit``: the pullback disagrees with the function.
  case wrong = "WRONG"

  /// The largest error still called ok.
  public static let okLimit: Float = 1e-2
  /// The largest error still called suspicious rather than wrong.
  public static let wrongLimit: Float = 1e-1

  /// The verdict for a relative error (NaN is wrong).
  public init(error: Float) {
    if error <= Self.okLimit {
      self = .ok
    } else if error <= Self.wrongLimit {
      self = .suspicious
    } else {
      self = .wrong
    }
  }

  public static func < (a: Self, b: Self) -> Bool {
    let order: [Self] = [.ok, .suspicious, .wrong]
    return order.firstIndex(of: a) ?? 0 < order.firstIndex(of: b) ?? 0
  }
}

/// Which entries of each tensor a gradient check compares.
public struct GradientCheckSampling: Sendable, Equatable {
  /// Tensors with at most this many entries are compared in full.
  public var fullUpTo: Int
  /// Entries compared in a larger tensor: half where the backpropagated gradient is largest,
  /// half drawn at random from the rest.
  public var sampleSize: Int

  public init(fullUpTo: Int = 256, sampleSize: Int = 32) {
    precondition(fullUpTo >= 0 && sampleSize >= 1, "sampling needs fullUpTo >= 0 and sampleSize >= 1")
    self.fullUpTo = fullUpTo
    self.sampleSize = sampleSize
  }

  /// Every entry of every tensor.
  public static let everything = GradientCheckSampling(fullUpTo: .max, sampleSize: 1)

  /// Every entry when the input and the parameters hold at most `budget` entries in all (a
  /// single small layer); otherwise `sampleSize` entries of each tensor larger than that (a
  /// network, whose every entry would cost two forward passes).
  public static func automatic(
    for layer: any Layer, inputShape: Shape, sampleSize: Int = 32, budget: Int = 8_192
  ) -> GradientCheckSampling {
    let total = inputShape.scalarCount + layer.parameterCount
    return total <= budget ? .everything : GradientCheckSampling(fullUpTo: sampleSize, sampleSize: sampleSize)
  }

  /// The entries of a tensor of `count` entries to compare, given the backpropagated gradient.
  func indices(count: Int, analytic: Tensor, using generator: inout some RandomNumberGenerator) -> [Int] {
    guard count > fullUpTo, count > sampleSize else { return Array(0..<count) }
    let largest = max(1, sampleSize / 2)
    let byMagnitude = (0..<count).sorted { abs(analytic.scalars[$0]) > abs(analytic.scalars[$1]) }
    var chosen = Array(byMagnitude.prefix(largest))
    var rest = Array(byMagnitude.dropFirst(largest))
    for _ in 0..<min(sampleSize - largest, rest.count) {
      let pick = Int(generator.next() % UInt64(rest.count))
      chosen.append(rest[pick])
      rest.swapAt(pick, rest.count - 1)
      rest.removeLast()
    }
    return chosen.sorted()
  }
}

/// One tensor of a gradient check: `∂L/∂input` or a parameter's gradient.
public struct GradientCheckRow: Sendable {
  /// `"input"`, or the parameter's structural name (`"0.weight"`).
  public var name: String
  public var shape: Shape
  /// Entries compared.
  public var checked: Int
  /// `max |backprop − numeric| / max(max |numeric|, noise floor)` over the compared entries.
  public var error: Float
  public var verdict: GradientCheckVerdict { GradientCheckVerdict(error: error) }
  /// Whether only a sample of the entries was compared.
  public var isSampled: Bool { checked < shape.scalarCount }
}

/// A gradient check of a layer or network, one row per tensor, with the settings it used.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
  public var rows: [GradientCheckRow]
  public var epsilon: Float
  public var inputShape: Shape
  public var sampling: GradientCheckSampling
  /// The smallest gradient scale the central difference can resolve in Float32 (see
  /// ``gradientCheckReport(of:input:epsilon:sampling:using:)``); smaller scales are raised to it.
  public var noiseFloor: Float

  /// The worst verdict of all rows (`ok` for no rows).
  public var verdict: GradientCheckVerdict { rows.map(\.verdict).max() ?? .ok }

  /// The table `cnn gradcheck` prints: settings, thresholds, then one row per tensor.
  public var description: String {
    var text = "Gradient check: backpropagation against central differences (the seeds' numerical_gradient),\n"
    text += "eps = \(scientific(epsilon)), input \(inputShape), loss L = sum(r * output) for a fixed random r.\n"
    text += "error = max |backprop - numeric| / max(max |numeric|, \(scientific(noiseFloor))), "
    text += "the second term being the Float32 noise floor of L.\n"
    text += "Verdicts: ok up to \(scientific(GradientCheckVerdict.okLimit)), "
    text += "suspicious up to \(scientific(GradientCheckVerdict.wrongLimit)), WRONG above.\n"
    if rows.contains(where: \.isSampled) {
      text += "Tensors over \(sampling.fullUpTo) entries are sampled: \(sampling.sampleSize) entries each, "
      text += "half where the backprop gradient is largest, half at random (--full checks every entry).\n"
    }
    let table = [["tensor", "shape", "checked", "error", "verdict"]]
      + rows.map { row in
        [
          row.name, row.shape.dimensions.map(String.init).joined(separator: "x"),
          row.isSampled ? "\(row.checked) of \(row.shape.scalarCount)" : "all \(row.checked)",
          scientific(row.error), row.verdict.rawValue,
        ]
      }
    let widths = (0..<5).map { column in table.map { $0[column].count }.max() ?? 0 }
    text += "\n"
    for line in table {
      text += line.enumerated().map { column, cell in
        cell + String(repeating: " ", count: widths[column] - cell.count)
      }.joined(separator: "  ").replacingTrailingSpaces() + "\n"
    }
    let counts = [GradientCheckVerdict.ok, .suspicious, .wrong].map { verdict in
      "\(rows.filter { $0.verdict == verdict }.count) \(verdict.rawValue)"
    }
    text += "\n\(rows.count) tensors: " + counts.joined(separator: ", ") + ".\n"
    return text
  }
}

/// Compares `layer`'s pullback with central differences, tensor by tensor, comparing every
/// entry of small tensors and a sample of large ones: the report `cnn gradcheck` prints.
///
/// As in ``checkGradients(of:input:epsilon:using:prepare:)`` the scalar is `L = Σ r ⊙ y` for a
/// fixed random `r`. Each row's error divides the largest difference by the largest numeric
/// gradient, but by no less than the noise floor `8 · u · Σ|r ⊙ y| / (2ε)` (u = Float32's unit
/// roundoff): the change in `L` that rounding alone can cause, over the probe's width. Without
/// it a gradient that is truly zero (a bias before batch normalization) would report its
/// rounding noise as a 100% error.
///
/// Dropout layers inside `layer` are rewound before every pass, so every pass draws the same
/// masks; batch normalization uses batch statistics, as in training.
///
/// - Complexity: `2 · (checked entries)` forward passes, plus one forward and backward pass.
public func gradientCheckReport(
  of layer: any Layer, input: Tensor, epsilon: Float = 1e-3, sampling: GradientCheckSampling = .init(),
  using generator: inout some RandomNumberGenerator
) -> GradientCheckReport {
  let dropouts = layer.layers(ofType: Dropout.self)
  let savedGenerators = dropouts.map(\.generator)
  func prepare() { for (dropout, saved) in zip(dropouts, savedGenerators) { dropout.generator = saved } }

  let outputShape = trappingOnShapeError { () throws(ShapeError) in try layer.outputShape(for: input.shape) }
  let projection = Tensor.randomNormal(outputShape, using: &generator)
  func loss(_ x: Tensor) -> Double { projectedLoss(of: layer, at: x, projection: projection, prepare: prepare) }

  layer.zeroGradients()
  prepare()
  let (output, pullback) = layer.forward(input, needsInputGradient: true)
  let dInput = pullback(projection)
  var magnitude: Double = 0
  for i in 0..<output.scalarCount { magnitude += abs(Double(output.scalars[i]) * Double(projection.scalars[i])) }
  let noiseFloor = Float(8 * Double(Float.ulpOfOne) / 2 * magnitude / (2 * Double(epsilon)))

  func row(_ name: String, analytic: Tensor, at point: Tensor, evaluate: (Tensor) -> Double) -> GradientCheckRow {
    let indices = sampling.indices(count: point.scalarCount, analytic: analytic, using: &generator)
    var probe = point
    var difference: Float = 0, scale: Float = 0
    for i in indices {
      let original = point.scalars[i]
      probe[offset: i] = original + epsilon
      let plus = evaluate(probe)
      probe[offset: i] = original - epsilon
      let minus = evaluate(probe)
      probe[offset: i] = original
      let numeric = Float((plus - minus) / (2 * Double(epsilon)))
      let gap = abs(analytic.scalars[i] - numeric)
      difference = gap.isNaN || difference.isNaN ? .nan : max(difference, gap)
      scale = max(scale, abs(numeric))
    }
    let denominator = max(scale, noiseFloor)
    return GradientCheckRow(
      name: name, shape: point.shape, checked: indices.count, error: denominator > 0 ? difference / denominator : difference)
  }

  var rows: [GradientCheckRow] = []
  if dInput.shape == input.shape {
    rows.append(row("input", analytic: dInput, at: input, evaluate: loss))
  }
  for (name, parameter) in layer.namedParameters {
    let analytic = parameter.gradient
    let original = parameter.value
    rows.append(
      row(name, analytic: analytic, at: original) { value in
        parameter.value = value
        return loss(input)
      })
    parameter.value = original
  }
  layer.zeroGradients()
  return GradientCheckReport(
    rows: rows, epsilon: epsilon, inputShape: input.shape, sampling: sampling, noiseFloor: noiseFloor)
}

/// `3.1e-04`, `1.0e+00`, `0`: two significant digits, for errors spanning many decades.
func scientific(_ value: Float) -> String {
  guard value.isFinite else { return value.isNaN ? "nan" : "inf" }
  guard value != 0 else { return "0" }
  var mantissa = Double(abs(value)), exponent = 0
  while mantissa >= 10 { mantissa /= 10; exponent += 1 }
  while mantissa < 1 { mantissa *= 10; exponent -= 1 }
  var tenths = Int((mantissa * 10).rounded())
  if tenths >= 100 { tenths /= 10; exponent += 1 }
  let sign = value < 0 ? "-" : ""
  let power = (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
  return "\(sign)\(tenths / 10).\(tenths % 10)e\(power)"
}

extension String {
  fileprivate func replacingTrailingSpaces() -> String {
    var text = self
    while text.last == " " { text.removeLast() }
    return text
  }
}
