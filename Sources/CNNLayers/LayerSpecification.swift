import CNNKernels
import CNNTensor

/// One layer written as a short text, for `cnn gradcheck --layer`: a kind, then optional
/// `key=value` settings after a colon, e.g. `conv:in=3,out=4,k=3,s=1,p=1`, `maxpool:k=2,s=2`,
/// `linear:in=8,out=4`, `relu`, `batchnorm:c=4`, `dropout:rate=0.5`.
///
/// Every setting has a default and a bounded range, so a typo or a huge number is refused
/// with the accepted grammar (``LayerSpecificationError``) instead of building a layer that
/// would take minutes to check.
public struct LayerSpecification: Sendable, Equatable, CustomStringConvertible {
  /// The layers a specification can build.
  public enum Kind: String, CaseIterable, Sendable {
    case conv, maxpool, avgpool, minpool, linear, relu, sigmoid, tanh, batchnorm, dropout, flatten, lrn, globalavgpool
    /// LeNet-5's squashing, 1.7159·tanh(2x/3) (`ScaledTanh`).
    case scaledtanh
    /// LeNet-5's Euclidean RBF output over `out` fixed random ±1 codes of `in` entries (`EuclideanRBF`).
    case rbf
  }

  /// One `key=value` setting of a kind: its default and range.
  public struct Setting: Sendable {
    public var key: String
    /// The range as the grammar states it when it depends on another setting (`0...k-1`).
    public var limits: String?
    /// `nil` when the default depends on another setting (a pooling stride defaults to `k`).
    public var defaultValue: Double?
    public var range: ClosedRange<Double>
    public var isInteger: Bool
  }

  public var kind: Kind
  /// Every setting of `kind`, the given ones and the defaults.
  public private(set) var values: [String: Double]

  /// The settings each kind accepts.
  public static func settings(of kind: Kind) -> [Setting] {
    func int(_ key: String, _ value: Int?, _ range: ClosedRange<Int>, limits: String? = nil) -> Setting {
      Setting(
        key: key, limits: limits, defaultValue: value.map(Double.init),
        range: Double(range.lowerBound)...Double(range.upperBound), isInteger: true)
    }
    switch kind {
    case .conv:
      return [
        int("in", 3, 1...64), int("out", 4, 1...64), int("k", 3, 1...11), int("s", 1, 1...8),
        int("p", 0, 0...10, limits: "0...k-1"), int("g", 1, 1...64, limits: "dividing in and out"),
      ]
    case .maxpool, .avgpool, .minpool:
      return [
        int("k", 2, 1...8), int("s", nil, 1...8), int("p", 0, 0...4, limits: "0...k/2"),
      ]
    case .linear:
      return [int("in", 8, 1...1024), int("out", 4, 1...1024)]
    case .batchnorm:
      return [int("c", 4, 1...64)]
    case .dropout:
      return [Setting(key: "rate", limits: nil, defaultValue: 0.5, range: 0...0.95, isInteger: false)]
    case .lrn:
      return [int("n", 5, 1...15)]
    case .rbf:
      return [int("in", 8, 1...1024), int("out", 4, 1...100)]
    case .relu, .sigmoid, .tanh, .flatten, .globalavgpool, .scaledtanh:
      return []
    }
  }

  /// The grammar: each kind with its defaults, its ranges on the next line, then a legend.
  public static var accepted: String {
    var lines: [String] = []
    for kind in Kind.allCases {
      let settings = Self.settings(of: kind)
      guard !settings.isEmpty else {
        lines.append("  " + kind.rawValue)
        continue
      }
      lines.append("  \(kind.rawValue):" + settings.map { "\($0.key)=\($0.defaultValue.map(format) ?? "k")" }.joined(separator: ","))
      lines.append(
        "    " + settings.map { "\($0.key) \($0.limits ?? "\(format($0.range.lowerBound))...\(format($0.range.upperBound))")" }
          .joined(separator: ", "))
    }
    lines.append(
      "in/out: channels (conv) or features (linear); k: kernel or window; s: stride; p: zero padding; "
        + "g: groups; c: channels; n: LRN window; rate: drop probability.")
    return lines.joined(separator: "\n")
  }

  /// Parses `kind[:key=value,...]`; settings left out take their defaults.
  /// - Throws: ``LayerSpecificationError`` naming the problem and listing ``accepted``.
  public init(parsing text: String) throws(LayerSpecificationError) {
    let trimmed = text.lowercased().filter { $0 != " " }
    let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    guard let name = parts.first, let kind = Kind(rawValue: String(name)) else {
      throw LayerSpecificationError(problem: "unknown layer '\(parts.first.map(String.init) ?? text)'")
    }
    let settings = Self.settings(of: kind)
    var values: [String: Double] = [:]
    if parts.count == 2 {
      for item in parts[1].split(separator: ",") {
        let pair = item.split(separator: "=", omittingEmptySubsequences: false)
        guard pair.count == 2, let setting = settings.first(where: { $0.key == pair[0] }) else {
          let keys = settings.isEmpty ? "no settings" : settings.map(\.key).joined(separator: ", ")
          throw LayerSpecificationError(problem: "'\(item)' is not a setting of \(kind.rawValue) (it takes \(keys))")
        }
        guard let value = Double(pair[1]), value.isFinite, setting.range.contains(value),
          !setting.isInteger || value == value.rounded()
        else {
          throw LayerSpecificationError(
            problem: "\(kind.rawValue) \(setting.key)=\(pair[1]) is out of range: \(setting.key) takes "
              + (setting.isInteger ? "whole numbers " : "") + "\(format(setting.range.lowerBound))...\(format(setting.range.upperBound))")
        }
        values[setting.key] = value
      }
    }
    for setting in settings where values[setting.key] == nil {
      values[setting.key] = setting.defaultValue ?? values["k"] ?? 1
    }
    self.kind = kind
    self.values = values
    try checkRelations()
  }

  private func int(_ key: String) -> Int { Int(values[key] ?? 0) }

  private func checkRelations() throws(LayerSpecificationError) {
    switch kind {
    case .conv:
      if int("p") >= int("k") {
        throw LayerSpecificationError(problem: "conv p=\(int("p")) must be below k=\(int("k")) (p 0...\(int("k") - 1))")
      }
      if int("in") % int("g") != 0 || int("out") % int("g") != 0 {
        throw LayerSpecificationError(problem: "conv g=\(int("g")) must divide in=\(int("in")) and out=\(int("out"))")
      }
    case .maxpool, .avgpool, .minpool:
      if 2 * int("p") > int("k") {
        throw LayerSpecificationError(
          problem: "\(kind.rawValue) p=\(int("p")) must be at most half of k=\(int("k")) (p 0...\(int("k") / 2))")
      }
    default:
      break
    }
  }

  /// Builds the layer with freshly drawn weights.
  public func makeLayer(using generator: inout some RandomNumberGenerator) -> any Layer {
    switch kind {
    case .conv:
      return Conv2D(
        inputChannels: int("in"), outputChannels: int("out"), kernelSize: Size2D(int("k")), stride: Size2D(int("s")),
        padding: .symmetric(int("p")), groups: int("g"), using: &generator)
    case .maxpool, .avgpool, .minpool:
      let mode: PoolingMode = kind == .maxpool ? .max : kind == .avgpool ? .average : .min
      return Pool2D(mode: mode, kernelSize: Size2D(int("k")), stride: Size2D(int("s")), padding: .symmetric(int("p")))
    case .linear:
      return Linear(inputFeatures: int("in"), outputFeatures: int("out"), using: &generator)
    case .relu: return ReLU()
    case .sigmoid: return Sigmoid()
    case .tanh: return Tanh()
    case .batchnorm: return BatchNorm2D(featureCount: int("c"))
    case .dropout: return Dropout(rate: Float(values["rate"] ?? 0.5), using: &generator)
    case .flatten: return Flatten()
    case .lrn: return LocalResponseNorm(size: int("n"))
    case .globalavgpool: return GlobalAvgPool2D()
    case .scaledtanh: return ScaledTanh()
    case .rbf:
      let codes = (0..<(int("out") * int("in"))).map { _ -> Float in generator.next() & 1 == 1 ? 1 : -1 }
      return EuclideanRBF(codes: Tensor(shape: [int("out"), int("in")], scalars: codes))
    }
  }

  /// A small input shape (without the batch) that suits the layer: `[C, H, W]`, or `[F]` for
  /// `linear` and `dropout`.
  public var defaultInputShape: Shape {
    switch kind {
    case .conv: return [int("in"), max(6, int("k") + 1), max(6, int("k") + 1)]
    case .maxpool, .avgpool, .minpool: return [2, max(6, int("k") + 2), max(6, int("k") + 2)]
    case .linear, .rbf: return [int("in")]
    case .batchnorm: return [int("c"), 4, 4]
    case .dropout: return [10]
    case .lrn: return [6, 4, 4]
    case .flatten: return [2, 3, 3]
    case .relu, .sigmoid, .tanh, .globalavgpool, .scaledtanh: return [3, 4, 4]
    }
  }

  /// Whether the layer has kinks (ReLU's at 0, max/min pooling's ties) that a central
  /// difference must not straddle, so the input should be spaced (``gradientCheckInput``).
  public var hasKinks: Bool { [.relu, .maxpool, .minpool].contains(kind) }

  /// A random input `[batch] + shape` for a gradient check. For layers with kinks, distinct
  /// values spaced at least 0.005 apart and away from 0, in random order (so a probe of
  /// ε = 1e-3 crosses no kink), when the input is small enough to space them within ±4;
  /// otherwise standard normal values.
  public func gradientCheckInput(batch: Int, shape: Shape, using generator: inout some RandomNumberGenerator) -> Tensor {
    let full = Shape([batch] + shape.dimensions)
    let count = full.scalarCount
    let spacing = min(0.05, 8 / Float(count))
    guard hasKinks, spacing >= 0.005 else { return .randomNormal(full, using: &generator) }
    var values = (0..<count).map { (Float($0) - Float(count / 2) + 0.5) * spacing }
    values.shuffle(using: &generator)
    return Tensor(shape: full, scalars: values)
  }

  /// Reads an input shape without the batch: `F` (`8`) or `C×H×W` (`3x6x6`), each size
  /// `1...maximum` and at most `maximumCount` values in all; `nil` otherwise.
  public static func inputShape(parsing text: String, maximum: Int = 256, maximumCount: Int = 16_384) -> Shape? {
    let parts = text.split(omittingEmptySubsequences: false) { $0 == "x" || $0 == "×" || $0 == "X" || $0 == "," }
    let values = parts.compactMap { Int($0) }
    guard parts.count == 1 || parts.count == 3, values.count == parts.count,
      values.allSatisfy({ (1...maximum).contains($0) }), values.reduce(1, *) <= maximumCount
    else { return nil }
    return Shape(values)
  }

  /// `conv:in=3,out=4,k=3,s=1,p=0,g=1`: every setting spelled out.
  public var description: String {
    let settings = Self.settings(of: kind)
    guard !settings.isEmpty else { return kind.rawValue }
    return kind.rawValue + ":" + settings.map { "\($0.key)=\(format(values[$0.key] ?? 0))" }.joined(separator: ",")
  }
}

/// A layer specification that could not be read; the description lists what is accepted.
public struct LayerSpecificationError: Error, CustomStringConvertible, Sendable, Equatable {
  public var problem: String

  public var description: String {
    "\(problem).\nAccepted layers (settings after ':', separated by ','; defaults shown):\n\(LayerSpecification.accepted)"
  }
}

/// `3` for whole numbers, `0.5` otherwise.
private func format(_ value: Double) -> String {
  value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
}
