/// The optimizers by name, for command lines and configuration files.
///
/// `momentum`, `nesterov` and `adamw` are configurations of `SGD` and `Adam`. The default
/// learning rates are the seeds' where the seeds use the optimizer (SGD 0.1, RMSprop 0.001,
/// Adam 0.001; Momentum and Nesterov 0.01 with `μ = 0.9` as in the book) and PyTorch's
/// otherwise (AdaGrad 0.01, Adadelta 1.0, AdamW 0.001).
public enum OptimizerKind: String, CaseIterable, Sendable {
  /// `SGD(learningRate:)`.
  case sgd
  /// `SGD(learningRate:momentum: 0.9)`.
  case momentum
  /// `SGD(learningRate:momentum: 0.9, nesterov: true)`.
  case nesterov
  /// `AdaGrad(learningRate:)`.
  case adagrad
  /// `RMSprop(learningRate:)`.
  case rmsprop
  /// `Adam(learningRate:)`.
  case adam
  /// `Adam.adamW(learningRate:)`: decoupled weight decay 0.01.
  case adamw
  /// `Adadelta(learningRate:)`.
  case adadelta

  /// The learning rate `make(learningRate: nil)` uses.
  public var defaultLearningRate: Float {
    switch self {
    case .sgd: 0.1
    case .momentum, .nesterov, .adagrad: 0.01
    case .rmsprop, .adam, .adamw: 0.001
    case .adadelta: 1.0
    }
  }

  /// A new optimizer of this kind, with `learningRate` or else `defaultLearningRate`, and
  /// every other hyper-parameter at its default.
  public func make(learningRate: Float? = nil) -> any Optimizer {
    let lr = learningRate ?? defaultLearningRate
    switch self {
    case .sgd: return SGD(learningRate: lr)
    case .momentum: return SGD(learningRate: lr, momentum: 0.9)
    case .nesterov: return SGD(learningRate: lr, momentum: 0.9, nesterov: true)
    case .adagrad: return AdaGrad(learningRate: lr)
    case .rmsprop: return RMSprop(learningRate: lr)
    case .adam: return Adam(learningRate: lr)
    case .adamw: return Adam.adamW(learningRate: lr)
    case .adadelta: return Adadelta(learningRate: lr)
    }
  }
}
