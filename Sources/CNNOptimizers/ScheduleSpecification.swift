/// A learning-rate schedule as a user asks for it, before it is planned for a run: the decay
/// and the warm-up, with no base rate, and with a cosine's length left open ("the whole run")
/// unless given. ``planned(baseLearningRate:epochs:)`` turns it into a ``LearningRateSchedule``.
///
/// Keeping the open length is what lets a resumed run that is extended re-plan its cosine to
/// the new end: `cosine` means "over the whole run", `cosine=12` means "over 12 epochs".
public struct ScheduleSpecification: Codable, Sendable, Equatable, CustomStringConvertible {
  /// How the rate falls from epoch to epoch (see ``LearningRateSchedule/Decay``).
  public enum Decay: Codable, Sendable, Equatable {
    case constant
    case step(every: Int, factor: Float)
    case exponential(factor: Float)
    /// Over `epochs` epochs, or over the whole run when `nil`.
    case cosine(epochs: Int?, minimum: Float)
    case reduceOnPlateau(factor: Float, patience: Int, threshold: Float, minimum: Float)
  }

  /// The decay.
  public var decay: Decay
  /// Epochs of linear warm-up (0 for none).
  public var warmupEpochs: Int

  /// Creates a specification.
  public init(decay: Decay = .constant, warmupEpochs: Int = 0) {
    self.decay = decay
    self.warmupEpochs = warmupEpochs
  }

  /// No decay and no warm-up.
  public static let constant = ScheduleSpecification()

  /// Whether the rate never changes (no decay, no warm-up).
  public var isConstant: Bool { decay == .constant && warmupEpochs == 0 }

  /// Whether the planned rates depend on the run's length (a cosine over the whole run): a
  /// run extended past its planned end then follows another curve than one planned that long.
  public var dependsOnRunLength: Bool {
    if case .cosine(nil, _) = decay { return true }
    return false
  }

  /// The schedule for a run of `epochs` epochs starting from `baseLearningRate`.
  public func planned(baseLearningRate: Float, epochs: Int) -> LearningRateSchedule {
    let planned: LearningRateSchedule.Decay
    switch decay {
    case .constant: planned = .constant
    case .step(let every, let factor): planned = .step(every: every, factor: factor)
    case .exponential(let factor): planned = .exponential(factor: factor)
    case .cosine(let span, let minimum): planned = .cosine(epochs: max(1, span ?? epochs), minimum: minimum)
    case .reduceOnPlateau(let factor, let patience, let threshold, let minimum):
      planned = .reduceOnPlateau(
        ReduceOnPlateau(factor: factor, patience: patience, threshold: threshold, minimum: minimum))
    }
    return LearningRateSchedule(baseLearningRate: baseLearningRate, decay: planned, warmupEpochs: warmupEpochs)
  }

  /// The spelling ``init(parsing:)`` reads: `cosine,warmup=2`, `step=10,gamma=0.1`.
  public var description: String {
    var parts: [String]
    switch decay {
    case .constant: parts = ["constant"]
    case .step(let every, let factor): parts = ["step=\(every)", "gamma=\(factor)"]
    case .exponential(let factor): parts = ["exponential=\(factor)"]
    case .cosine(let span, let minimum):
      parts = [span.map { "cosine=\($0)" } ?? "cosine"]
      if minimum != 0 { parts.append("min=\(minimum)") }
    case .reduceOnPlateau(let factor, let patience, let threshold, let minimum):
      parts = ["plateau", "factor=\(factor)", "patience=\(patience)"]
      if threshold != 1e-4 { parts.append("threshold=\(threshold)") }
      if minimum != 0 { parts.append("min=\(minimum)") }
    }
    if warmupEpochs > 0 { parts.append("warmup=\(warmupEpochs)") }
    return parts.joined(separator: ",")
  }

  /// Parses a comma-separated schedule: one decay and its options, plus `warmup=N`:
  ///
  ///     constant | step=EVERY[,gamma=0.1] | exponential=GAMMA | cosine[=EPOCHS][,min=0]
  ///     | plateau[,factor=0.1][,patience=10][,threshold=1e-4][,min=0]   each optionally with ,warmup=EPOCHS
  ///
  /// `warmup=2` alone means a warm-up and no decay. `cosine` without a length runs over the
  /// whole run, however long it becomes.
  /// - Throws: `ScheduleError` naming the part that is not understood.
  public init(parsing text: String) throws(ScheduleError) {
    var options: [String: String] = [:]
    var kind: String?
    var order: [String] = []
    for part in text.split(separator: ",") {
      // An empty side stays an empty string ("=" is the parts "" and ""), never a missing one.
      let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
      let key = pieces[0].lowercased()
      let value = pieces.count > 1 ? pieces[1] : ""
      if ["constant", "step", "exponential", "exp", "cosine", "plateau"].contains(key) {
        guard kind == nil else { throw ScheduleError(text: text, reason: "give one decay, not \(kind ?? "") and \(key)") }
        kind = key == "exp" ? "exponential" : key
      } else if !["gamma", "min", "factor", "patience", "warmup", "threshold"].contains(key) {
        throw ScheduleError(text: text, reason: "unknown part '\(part)'")
      }
      options[key == "exp" ? "exponential" : key] = value
      order.append(key == "exp" ? "exponential" : key)
    }
    func number(_ key: String, default fallback: Float?, in range: ClosedRange<Float>) throws(ScheduleError) -> Float {
      guard let value = options[key], !value.isEmpty else {
        guard let fallback else { throw ScheduleError(text: text, reason: "\(key) needs a value, as in \(key)=…") }
        return fallback
      }
      guard let number = Float(value), range.contains(number) else {
        throw ScheduleError(text: text, reason: "\(key)=\(value) is not a number in \(range)")
      }
      return number
    }
    func whole(_ key: String, default fallback: Int?, in range: ClosedRange<Int> = 0...1_000_000) throws(ScheduleError) -> Int? {
      guard let value = options[key], !value.isEmpty else {
        guard let fallback else { return nil }
        return fallback
      }
      guard let number = Int(value), range.contains(number) else {
        throw ScheduleError(text: text, reason: "\(key)=\(value) is not a whole number in \(range.lowerBound)…\(range.upperBound)")
      }
      return number
    }
    let decay: Decay
    switch kind ?? "constant" {
    case "step":
      guard let every = try whole("step", default: nil, in: 1...1_000_000) else {
        throw ScheduleError(text: text, reason: "step needs a whole number of epochs, as in step=10")
      }
      decay = .step(every: every, factor: try number("gamma", default: 0.1, in: 1e-9...1))
    case "exponential": decay = .exponential(factor: try number("exponential", default: nil, in: 1e-9...1))
    case "cosine":
      decay = .cosine(
        epochs: try whole("cosine", default: nil, in: 1...1_000_000),
        minimum: try number("min", default: 0, in: 0...Float.greatestFiniteMagnitude))
    case "plateau":
      decay = .reduceOnPlateau(
        factor: try number("factor", default: 0.1, in: 1e-9...0.999_999),
        patience: try whole("patience", default: 10) ?? 10,
        threshold: try number("threshold", default: 1e-4, in: 0...1),
        minimum: try number("min", default: 0, in: 0...Float.greatestFiniteMagnitude))
    default: decay = .constant
    }
    let allowed: Set<String> =
      switch kind ?? "constant" {
      case "step": ["step", "gamma", "warmup"]
      case "exponential": ["exponential", "warmup"]
      case "cosine": ["cosine", "min", "warmup"]
      case "plateau": ["plateau", "factor", "patience", "threshold", "min", "warmup"]
      default: ["constant", "warmup"]
      }
    if let stray = order.first(where: { !allowed.contains($0) }) {
      throw ScheduleError(text: text, reason: "\(stray) does not apply to \(kind ?? "constant")")
    }
    self.init(decay: decay, warmupEpochs: try whole("warmup", default: 0) ?? 0)
  }
}
