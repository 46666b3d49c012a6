extension OptimizerKind {
  /// A new optimizer of this kind with `learningRate` (or `defaultLearningRate`) and weight
  /// decay `λ`: L2 (`g ← g + λ·p`) for all but `adamw`, whose `λ` is its decoupled decay
  /// (replacing its default 0.01). Every other hyper-parameter is at its default.
  public func make(learningRate: Float?, weightDecay: Float) -> any Optimizer {
    precondition(weightDecay >= 0 && weightDecay.isFinite, "Weight decay must be ≥ 0, got \(weightDecay)")
    let lr = learningRate ?? defaultLearningRate
    switch self {
    case .sgd: return SGD(learningRate: lr, weightDecay: weightDecay)
    case .momentum: return SGD(learningRate: lr, momentum: 0.9, weightDecay: weightDecay)
    case .nesterov: return SGD(learningRate: lr, momentum: 0.9, nesterov: true, weightDecay: weightDecay)
    case .adagrad: return AdaGrad(learningRate: lr, weightDecay: weightDecay)
    case .rmsprop: return RMSprop(learningRate: lr, weightDecay: weightDecay)
    case .adam: return Adam(learningRate: lr, weightDecay: weightDecay)
    case .adamw: return Adam.adamW(learningRate: lr, weightDecay: weightDecay)
    case .adadelta: return Adadelta(learningRate: lr, weightDecay: weightDecay)
    }
  }
}
