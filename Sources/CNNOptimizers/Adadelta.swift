import CNNLayers
import CNNTensor

/// Adadelta: steps sized by the ratio of running roots of past updates and past gradients,
/// so the units match and the learning rate can stay 1 (Zeiler, 2012).
/// `torch.optim.Adadelta`, with the same defaults.
///
/// With `g` the gradient, `p` the parameter, `v` the mean squared gradient, `u` the mean
/// squared update (both starting at 0), `ρ` the decay and `λ` the weight decay, one step is:
///
///     g ← g + λ·p                      (only when λ ≠ 0)
///     v ← ρ·v + (1 − ρ)·g²
///     Δ = √(u + ε) / √(v + ε) · g
///     u ← ρ·u + (1 − ρ)·Δ²
///     p ← p − lr·Δ
///
/// State: `step`, `square_avg` (`v`), `acc_delta` (`u`).
public final class Adadelta: Optimizer {
  public var learningRate: Float
  /// `ρ`, the decay of both running averages.
  public let rho: Float
  /// `ε`, inside both square roots.
  public let epsilon: Float
  /// `λ`, the L2 penalty coefficient added to the gradient.
  public let weightDecay: Float
  private var states: ParameterStates

  public init(learningRate: Float = 1.0, rho: Float = 0.9, epsilon: Float = 1e-6, weightDecay: Float = 0) {
    precondition(learningRate >= 0, "Adadelta needs a learning rate ≥ 0, got \(learningRate)")
    precondition((0...1).contains(rho), "Adadelta needs a rho in [0, 1], got \(rho)")
    precondition(epsilon >= 0, "Adadelta needs an epsilon ≥ 0, got \(epsilon)")
    precondition(weightDecay >= 0, "Adadelta needs a weight decay ≥ 0, got \(weightDecay)")
    self.learningRate = learningRate
    self.rho = rho
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.states = ParameterStates(slots: [("square_avg", 0), ("acc_delta", 0)])
  }

  public func step(_ parameters: [Parameter]) {
    let lr = learningRate, ρ = rho, ε = epsilon, λ = weightDecay
    for parameter in parameters {
      let state = states.state(for: parameter)
      state.step += 1
      let v = state.slots[0], u = state.slots[1]
      parameter.update { p, g in
        forEachChunk(p.count) { range in
          for i in range {
            let gi = g[i] + λ * p[i]
            g[i] = 0
            v[i] = ρ * v[i] + (1 - ρ) * gi * gi
            let delta = (u[i] + ε).rootOfNonNegative / (v[i] + ε).rootOfNonNegative * gi
            u[i] = ρ * u[i] + (1 - ρ) * delta * delta
            p[i] -= lr * delta
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
