import CNNLayers
import CNNTensor

/// RMSprop: each element's step is divided by a running root mean square of its gradients
/// (Hinton, Coursera lecture 6e), optionally centered and with momentum. `torch.optim.RMSprop`,
/// with the same defaults.
///
/// With `g` the gradient, `p` the parameter, `v` the mean square, `ḡ` the mean gradient, `b`
/// the momentum buffer (all starting at 0), `α` the smoothing constant, `μ` the momentum and
/// `λ` the weight decay, one step is:
///
///     g ← g + λ·p                      (only when λ ≠ 0)
///     v ← α·v + (1 − α)·g²
///     ḡ ← α·ḡ + (1 − α)·g,  s = √(v − ḡ²) + ε      (centered)
///                           s = √v + ε             (otherwise)
///     b ← μ·b + g/s,  p ← p − lr·b                 (μ ≠ 0)
///     p ← p − lr·g/s                               (μ = 0)
///
/// The seeds' book uses the plain form with `α = 0.99`, `ε = 1e-7`. Keras/TensorFlow's
/// RMSprop (the seeds' CIFAR-10 example) defaults to `ρ = 0.9`, `ε = 1e-7`; pass `alpha: 0.9`
/// to match its decay. The default learning rate here is PyTorch's 0.01;
/// `OptimizerKind.rmsprop` uses the seeds' 0.001.
///
/// State: `step`, `square_avg` (`v`), then `momentum_buffer` (`b`) when `μ ≠ 0` and
/// `grad_avg` (`ḡ`) when centered.
public final class RMSprop: Optimizer {
  public var learningRate: Float
  /// `α`, the smoothing constant of the running averages.
  public let alpha: Float
  /// `ε`, added to the root mean square.
  public let epsilon: Float
  /// `λ`, the L2 penalty coefficient added to the gradient.
  public let weightDecay: Float
  /// `μ`; 0 turns momentum off.
  public let momentum: Float
  /// Whether to divide by an estimate of the gradient's variance rather than its mean square.
  public let centered: Bool
  private var states: ParameterStates

  public init(
    learningRate: Float = 0.01, alpha: Float = 0.99, epsilon: Float = 1e-8, weightDecay: Float = 0,
    momentum: Float = 0, centered: Bool = false
  ) {
    precondition(learningRate >= 0, "RMSprop needs a learning rate ≥ 0, got \(learningRate)")
    precondition(alpha >= 0, "RMSprop needs an alpha ≥ 0, got \(alpha)")
    precondition(epsilon >= 0, "RMSprop needs an epsilon ≥ 0, got \(epsilon)")
    precondition(weightDecay >= 0, "RMSprop needs a weight decay ≥ 0, got \(weightDecay)")
    precondition(momentum >= 0, "RMSprop needs a momentum ≥ 0, got \(momentum)")
    self.learningRate = learningRate
    self.alpha = alpha
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.momentum = momentum
    self.centered = centered
    var slots: [(name: String, initialValue: Float)] = [("square_avg", 0)]
    if momentum != 0 { slots.append(("momentum_buffer", 0)) }
    if centered { slots.append(("grad_avg", 0)) }
    self.states = ParameterStates(slots: slots)
  }

  public func step(_ parameters: [Parameter]) {
    let lr = learningRate, α = alpha, ε = epsilon, λ = weightDecay, μ = momentum
    for parameter in parameters {
      let state = states.state(for: parameter)
      state.step += 1
      let v = state.slots[0]
      // One loop per configuration: LLVM does not split a loop on a flag by itself, and a
      // branch in the loop would keep it from vectorizing.
      switch (momentum != 0, centered) {
      case (false, false):
        parameter.update { p, g in
          forEachChunk(p.count) { range in
            for i in range {
              let gi = g[i] + λ * p[i]
              g[i] = 0
              v[i] = α * v[i] + (1 - α) * gi * gi
              p[i] -= lr * (gi / (v[i].rootOfNonNegative + ε))
            }
          }
        }
      case (true, false):
        let b = state.slots[1]
        parameter.update { p, g in
          forEachChunk(p.count) { range in
            for i in range {
              let gi = g[i] + λ * p[i]
              g[i] = 0
              v[i] = α * v[i] + (1 - α) * gi * gi
              b[i] = μ * b[i] + gi / (v[i].rootOfNonNegative + ε)
              p[i] -= lr * b[i]
            }
          }
        }
      case (let hasMomentum, true):
        let ḡ = state.slots[hasMomentum ? 2 : 1]
        let b = hasMomentum ? state.slots[1] : UnsafeMutableBufferPointer(start: nil, count: 0)
        parameter.update { p, g in
          forEachChunk(p.count) { range in
            for i in range {
              let gi = g[i] + λ * p[i]
              g[i] = 0
              v[i] = α * v[i] + (1 - α) * gi * gi
              ḡ[i] += (1 - α) * (gi - ḡ[i])  // torch's lerp(ḡ, g, 1 − α)
              // Rounding can take v − ḡ² a hair below 0; √ then gives NaN, as in PyTorch.
              let s = (v[i] - ḡ[i] * ḡ[i]).squareRoot() + ε
              if hasMomentum {
                b[i] = μ * b[i] + gi / s
                p[i] -= lr * b[i]
              } else {
                p[i] -= lr * (gi / s)
              }
            }
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
