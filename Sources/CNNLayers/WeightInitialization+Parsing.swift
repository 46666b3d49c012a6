/// The spelling `cnn train --init` reads and checkpoints record: `he`, `xavier`, `pytorch`,
/// `normal=0.01`, `zeros`.
extension WeightInitialization: CustomStringConvertible {
  public var description: String {
    switch self {
    case .normal(let standardDeviation): return "normal=\(standardDeviation)"
    case .he: return "he"
    case .xavier: return "xavier"
    case .pytorchDefault: return "pytorch"
    case .zeros: return "zeros"
    }
  }

  /// Reads ``description``'s spelling; `nil` for anything else (including a σ that is not a
  /// positive, finite number).
  public init?(parsing text: String) {
    let spelling = text.lowercased().filter { !$0.isWhitespace }
    switch spelling {
    case "he", "kaiming": self = .he
    case "xavier", "glorot": self = .xavier
    case "pytorch", "pytorch-default": self = .pytorchDefault
    case "zeros", "zero": self = .zeros
    default:
      guard spelling.hasPrefix("normal="), let deviation = Float(spelling.dropFirst("normal=".count)),
        deviation > 0, deviation.isFinite
      else { return nil }
      self = .normal(standardDeviation: deviation)
    }
  }
}
