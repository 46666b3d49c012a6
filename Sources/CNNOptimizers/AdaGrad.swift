import CNNLayers
import CNNTensor

/// AdaGrad: each element's step shrinks with the root of its summed squared gradients
/// (Duchi et al., 2011). `torch.optim.Adagrad`, with the same defaults.
///
/// With `g` the gradient, `p` the parameter, `h` the accumulator (starting at
/// `initialAccumulatorValue`), `t` the step number (from 1), `η` the learning-rate decay and
/// `λ` the weight decay, one step is:
///
///     g ← g + λ·p                      (only when λ ≠ 0)
///     lr_t = lr / (1 + (t − 1)·η)
///     h ← h + g²
///     p ← p − lr_t·g / (√h + ε)
///
/// The seeds' book uses the same rule with `ε = 1e-7` and lr 0.01; PyTorch's `ε` is `1e-10`.
///
/// State: `step`, `sum` (`h`).
public final class AdaGrad: Optimizer {
  public var learningRate: Float
  /// `η`: the learning rate at step `t` is `lr / (1 + (t − 1)·η)`.
  public let learningRateDecay: Float
  /// `λ`, the L2 penalty coefficient added to the gradient.
  public let weightDecay: Float
  /// The value `h` starts at.
  public let initialAccumulatorValue: Float
  /// `ε`, added to `√h` for numerical stability.
  public let epsilon: Float
  private var states: ParameterStates

  public init(
    learningRate: Float = 0.01, learningRateDecay: Float = 0, weightDecay: Float = 0,
    initialAccumulatorValue: Float = 0, epsilon: Float = 1e-10
  ) {
    precondition(learningRate >= 0, "AdaGrad needs a learning rate ≥ 0, got \(learningRate)")
    precondition(learningRateDecay >= 0, "AdaGrad needs a learning-rate decay ≥ 0, got \(learningRateDecay)")
    precondition(weightDecay >= 0, "AdaGrad needs a weight decay ≥ 0, got \(weightDecay)")
    precondition(initialAccumulatorValue >= 0, "AdaGrad needs an initial accumulator ≥ 0, got \(initialAccumulatorValue)")
    precondition(epsilon >= 0, "AdaGrad needs an epsilon ≥ 0, got \(epsilon)")
    self.learningRate = learningRate
    self.learningRateDecay = learningRateDecay
    self.weightDecay = weightDecay
    self.initialAccumulatorValue = initialAccumulatorValue
    self.epsilon = epsilon
    self.states = ParameterStates(slots: [("sum", initialAccumulatorValue)])
  }

  public func step(_ parameters: [Parameter]) {
    let λ = weightDecay, ε = epsilon
    for parameter in parameters {
      let state = states.state(for: parameter)
      state.step += 1
      // PyTorch computes the decayed rate in double precision.
      let lr = Float(Double(learningRate) / (1 + Double(state.step - 1) * Double(learningRateDecay)))
      let h = state.slots[0]
      parameter.update { p, g in
        forEachChunk(p.count) { range in
          for i in range {
            let gi = g[i] + λ * p[i]
            g[i] = 0
            h[i] += gi * gi
            p[i] -= lr * (gi / (h[i].rootOfNonNegative + ε))
          }
        }
      }
    }
  }

  public func stateTensors(for parameters: [Parameter]) -> [String: Tensor] { states.export(for: parameters) }

  public func loadState(_ state: [String: Tensor], for parameters: [Parameter]) throws(OptimizerStateError) {
    try states.load(state, for: parameters)
  }
}
