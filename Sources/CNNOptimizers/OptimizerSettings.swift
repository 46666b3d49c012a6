/// An optimizer with every setting spelled out, as a run records it: the kind, the learning
/// rate, momentum (for `momentum` and `nesterov`), weight decay, and gradient clipping.
///
///     let settings = OptimizerSettings(kind: .nesterov, learningRate: 0.05, weightDecay: 5e-4)
///     let optimizer = settings.make()   // SGD(lr 0.05, momentum 0.9, Nesterov, weight decay 5e-4)
public struct OptimizerSettings: Codable, Sendable, Equatable, CustomStringConvertible {
  /// The algorithm.
  public var kind: OptimizerKind
  /// The learning rate before any schedule.
  public var learningRate: Float
  /// μ for `momentum` and `nesterov` (0.9 unless given); `nil` for the others.
  public var momentum: Float?
  /// λ: L2 (`g ← g + λ·p`) for every kind but `adamw`, whose λ is its decoupled decay
  /// (`p ← p − lr·λ·p`; 0.01 unless given).
  public var weightDecay: Float
  /// The largest global L2 norm of the gradients; larger ones are scaled down before each step.
  public var clipNorm: Float?

  /// Creates settings; what is not given takes the kind's default (``OptimizerKind/defaultLearningRate``,
  /// μ = 0.9, λ = 0 or 0.01 for `adamw`).
  public init(
    kind: OptimizerKind, learningRate: Float? = nil, momentum: Float? = nil, weightDecay: Float? = nil,
    clipNorm: Float? = nil
  ) {
    self.kind = kind
    self.learningRate = learningRate ?? kind.defaultLearningRate
    self.momentum = kind.usesMomentum ? (momentum ?? 0.9) : nil
    self.weightDecay = weightDecay ?? (kind == .adamw ? 0.01 : 0)
    self.clipNorm = clipNorm
  }

  /// Why these settings cannot train, or `nil` when they can.
  public var problem: String? {
    if !(learningRate > 0 && learningRate.isFinite) { return "the learning rate must be a positive number, got \(learningRate)" }
    if let momentum, !(momentum >= 0 && momentum < 1) { return "momentum must be in [0, 1), got \(momentum)" }
    if !(weightDecay >= 0 && weightDecay.isFinite) { return "weight decay must be a finite number ≥ 0, got \(weightDecay)" }
    if let clipNorm, !(clipNorm > 0 && clipNorm.isFinite) { return "the clipping norm must be a positive number, got \(clipNorm)" }
    return nil
  }

  /// A new optimizer with these settings (clipping is the trainer's job).
  public func make() -> any Optimizer {
    precondition(problem == nil, "OptimizerSettings: \(problem ?? "")")
    let lr = learningRate
    switch kind {
    case .sgd: return SGD(learningRate: lr, weightDecay: weightDecay)
    case .momentum: return SGD(learningRate: lr, momentum: momentum ?? 0.9, weightDecay: weightDecay)
    case .nesterov: return SGD(learningRate: lr, momentum: momentum ?? 0.9, nesterov: true, weightDecay: weightDecay)
    case .adagrad: return AdaGrad(learningRate: lr, weightDecay: weightDecay)
    case .rmsprop: return RMSprop(learningRate: lr, weightDecay: weightDecay)
    case .adam: return Adam(learningRate: lr, weightDecay: weightDecay)
    case .adamw: return Adam.adamW(learningRate: lr, weightDecay: weightDecay)
    case .adadelta: return Adadelta(learningRate: lr, weightDecay: weightDecay)
    }
  }

  /// `SGD (lr 0.01, momentum 0.9, Nesterov, weight decay 0.0005)`, `AdamW (lr 0.001, decoupled weight decay 0.01)`.
  public var description: String {
    var parts = ["lr \(learningRate)"]
    if let momentum { parts.append("momentum \(momentum)") }
    if kind == .nesterov { parts.append("Nesterov") }
    if kind == .adamw {
      parts.append("decoupled weight decay \(weightDecay)")
    } else if weightDecay > 0 {
      parts.append("weight decay \(weightDecay)")
    }
    if let clipNorm { parts.append("gradient norm clipped at \(clipNorm)") }
    return "\(kind.displayName) (\(parts.joined(separator: ", ")))"
  }

  /// Every setting named, including those left at zero or off, as a run's first line prints
  /// it: `SGD with Nesterov momentum 0.9 (lr 0.01, weight decay 0.0005, no clipping)`,
  /// `AdamW (lr 0.001, decoupled weight decay 0.01, gradient norm clipped at 1.0)`,
  /// `Adam (lr 0.001, no weight decay, no clipping)`.
  public var runDescription: String {
    var parts = ["lr \(learningRate)"]
    switch (kind, weightDecay > 0) {
    case (.adamw, _): parts.append("decoupled weight decay \(weightDecay)")
    case (_, true): parts.append("weight decay \(weightDecay)")
    case (_, false): parts.append("no weight decay")
    }
    parts.append(clipNorm.map { "gradient norm clipped at \($0)" } ?? "no clipping")
    return "\(kind.configuredName(momentum: momentum)) (\(parts.joined(separator: ", ")))"
  }
}

extension OptimizerKind: Codable {
  /// Whether the kind is SGD with momentum.
  public var usesMomentum: Bool { self == .momentum || self == .nesterov }

  /// The kind as a person names it, with its momentum: `SGD`, `SGD with momentum 0.9`,
  /// `SGD with Nesterov momentum 0.9`, `AdaGrad`, `RMSprop`, `Adam`, `AdamW`, `Adadelta`.
  public func configuredName(momentum: Float? = nil) -> String {
    switch self {
    case .momentum: "SGD with momentum \(momentum ?? 0.9)"
    case .nesterov: "SGD with Nesterov momentum \(momentum ?? 0.9)"
    default: displayName
    }
  }

  /// The short name of a run's log (`optimizer` in `cnn train --json`): `SGD`, `Momentum`,
  /// `Nesterov`, `AdaGrad`, `RMSprop`, `Adam`, `AdamW`, `Adadelta`.
  public var shortName: String {
    switch self {
    case .momentum: "Momentum"
    case .nesterov: "Nesterov"
    default: displayName
    }
  }

  /// The algorithm's usual name: `SGD`, `AdaGrad`, `RMSprop`, `Adam`, `AdamW`, `Adadelta`.
  public var displayName: String {
    switch self {
    case .sgd, .momentum, .nesterov: "SGD"
    case .adagrad: "AdaGrad"
    case .rmsprop: "RMSprop"
    case .adam: "Adam"
    case .adamw: "AdamW"
    case .adadelta: "Adadelta"
    }
  }
}
