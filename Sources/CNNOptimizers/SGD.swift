import CNNLayers
import CNNTensor

/// Stochastic gradient descent, with optional momentum (heavy ball or Nesterov) and L2 weight
/// decay: `torch.optim.SGD`, with the same defaults.
///
/// With `g` the gradient, `p` the parameter, `v` the momentum buffer, `μ` the momentum, `τ` the
/// dampening and `λ` the weight decay, one step is:
///
///     g ← g + λ·p                      (only when λ ≠ 0)
///     v ← g                            (first step)
///     v ← μ·v + (1 − τ)·g              (later steps)
///     d ← g + μ·v  if Nesterov,  else  d ← v     (d ← g when μ = 0)
///     p ← p − lr·d
///
/// So one type covers the three classic forms:
/// - plain SGD, `SGD(learningRate: 0.1)`: `p ← p − lr·g`;
/// - Momentum, `SGD(learningRate: 0.01, momentum: 0.9)`;
/// - Nesterov, `SGD(learningRate: 0.01, momentum: 0.9, nesterov: true)`.
///
/// The seeds' book (Deep Learning from Scratch, `common/optimizer.py`) writes Momentum as
/// `v ← μ·v − lr·g; p ← p + v`, starting from `v = 0`. Its velocity is PyTorch's buffer times
/// `−lr` (`v_book = −lr·v`), so while the learning rate is constant the two produce the same
/// parameters. They part when the learning rate changes: PyTorch's form applies the new rate
/// to the whole accumulated velocity at once, the book's only to new gradients.
///
/// PyTorch's Nesterov is Bengio et al.'s reformulation (arXiv:1212.0901),
/// `p ← p + μ²·v_old − (1 + μ)·lr·g` in the book's terms. The book's `Nesterov` class updates
/// `v` first and then uses the new `v` in that line, so it differs from this (and PyTorch)
/// from the second step on.
///
/// State: `step`, and `momentum_buffer` when `momentum ≠ 0`.
public final class SGD: Optimizer {
  public var learningRate: Float
  /// `μ`; 0 turns momentum off.
  public let momentum: Float
  /// `τ`, the fraction of each gradient left out of the momentum buffer (not on the first step).
  public let dampening: Float
  /// Whether to step along `g + μ·v` (Nesterov) instead of `v`.
  public let nesterov: Bool
  /// `λ`, the L2 penalty coefficient added to the gradient.
  public let weightDecay: Float
  private var states: ParameterStates

  /// Creates an SGD optimizer; Nesterov needs a positive momentum and no dampening.
  public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
    precondition(learningRate >= 0, "SGD needs a learning rate ≥ 0, got \(learningRate)")
    precondition(momentum >= 0, "SGD needs a momentum ≥ 0, got \(momentum)")
    precondition(weightDecay >= 0, "SGD needs a weight decay ≥ 0, got \(weightDecay)")
    precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs a momentum > 0 and zero dampening")
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    self.weightDecay = weightDecay
    self.states = ParameterStates(slots: momentum == 0 ? [] : [("momentum_buffer", 0)])
  }

  public func step(_ parameters: [Parameter]) {
    let lr = learningRate, λ = weightDecay, μ = momentum
    for parameter in parameters {
      let state = states.state(for: parameter)
      state.step += 1
      guard μ != 0 else {
        parameter.update { p, g in
          forEachChunk(p.count) { range in
            for i in range {
              let gi = g[i] + λ * p[i]
              g[i] = 0
              p[i] -= lr * gi
            }
          }
        }
        continue
      }
      // The buffer starts at 0, so `keep·v + scale·g` with keep 0 and scale 1 is exactly `v ← g`.
      let first = state.step == 1
      let keep = first ? 0 : μ, scale = first ? 1 : 1 - dampening
      // `d = a·g + b·v` is `g + μ·v` for Nesterov and exactly `v` otherwise.
      let a: Float = nesterov ? 1 : 0, b: Float = nesterov ? μ : 1
      let v = state.slots[0]
      parameter.update { p, g in
        forEachChunk(p.count) { range in
          for i in range {
            let gi = g[i] + λ * p[i]
            g[i] = 0
            v[i] = keep * v[i] + scale * gi
            p[i] -= lr * (a * gi + b * v[i])
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
