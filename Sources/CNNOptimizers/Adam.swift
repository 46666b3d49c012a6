import CNNLayers
import CNNTensor
import RealModule

/// Adam: steps scaled by bias-corrected running moments of the gradient (Kingma & Ba, 2015),
/// with L2 or decoupled (AdamW, Loshchilov & Hutter, 2019) weight decay. `torch.optim.Adam`
/// and `torch.optim.AdamW`, with the same defaults.
///
/// With `g` the gradient, `p` the parameter, `m` and `v` the first and second moments (starting
/// at 0), `t` the step number (from 1) and `λ` the weight decay, one step is:
///
///     g ← g + λ·p                      (L2, Adam; only when λ ≠ 0)
///     p ← p·(1 − lr·λ)                 (decoupled, AdamW)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
///     p ← p − lr·m̂ / (√v̂ + ε)
///
/// `ε` is added after the bias correction, as PyTorch does. The seeds' book instead folds the
/// correction into the rate, `p ← p − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m / (√v + ε)` with `ε = 1e-7`
/// (TensorFlow's form), which differs only through where `ε` sits.
///
/// AdamW is this type with `decoupledWeightDecay: true`; `Adam.adamW(learningRate:)` also
/// takes PyTorch's AdamW default `λ = 0.01`.
///
/// State: `step`, `exp_avg` (`m`), `exp_avg_sq` (`v`).
public final class Adam: Optimizer {
  public var learningRate: Float
  /// `β₁`, the decay of the first moment.
  public let beta1: Float
  /// `β₂`, the decay of the second moment.
  public let beta2: Float
  /// `ε`, added to `√v̂`.
  public let epsilon: Float
  /// `λ`: the L2 coefficient, or with `decoupledWeightDecay` the decay per unit learning rate.
  public let weightDecay: Float
  /// Whether weight decay shrinks the parameter directly (AdamW) instead of adding `λ·p` to
  /// the gradient.
  public let decoupledWeightDecay: Bool
  private var states: ParameterStates

  public init(
    learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
    weightDecay: Float = 0, decoupledWeightDecay: Bool = false
  ) {
    precondition(learningRate >= 0, "Adam needs a learning rate ≥ 0, got \(learningRate)")
    precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam needs betas in [0, 1), got \(beta1), \(beta2)")
    precondition(epsilon >= 0, "Adam needs an epsilon ≥ 0, got \(epsilon)")
    precondition(weightDecay >= 0, "Adam needs a weight decay ≥ 0, got \(weightDecay)")
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.decoupledWeightDecay = decoupledWeightDecay
    self.states = ParameterStates(slots: [("exp_avg", 0), ("exp_avg_sq", 0)])
  }

  /// AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay, default `λ = 0.01`.
  public static func adamW(
    learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
    weightDecay: Float = 0.01
  ) -> Adam {
    Adam(
      learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
      decoupledWeightDecay: true)
  }

  public func step(_ parameters: [Parameter]) {
    let lr = learningRate, β1 = beta1, β2 = beta2, ε = epsilon
    // Exactly one of the two decay forms is active; the other is the identity.
    let l2 = decoupledWeightDecay ? 0 : weightDecay
    let shrink = decoupledWeightDecay ? Float(1 - Double(lr) * Double(weightDecay)) : 1
    for parameter in parameters {
      let state = states.state(for: parameter)
      state.step += 1
      // Bias corrections in double precision, as PyTorch computes them.
      let t = state.step
      let correction1 = 1 - Double.pow(Double(β1), t)
      let correction2 = 1 - Double.pow(Double(β2), t)
      let stepSize = Float(Double(lr) / correction1)
      let rootCorrection2 = Float(correction2.squareRoot())
      let m = state.slots[0], v = state.slots[1]
      parameter.update { p, g in
        forEachChunk(p.count) { range in
          for i in range {
            let gi = g[i] + l2 * p[i]
            g[i] = 0
            m[i] += (1 - β1) * (gi - m[i])  // torch's lerp(m, g, 1 − β₁)
            v[i] = β2 * v[i] + (1 - β2) * gi * gi
            let denominator = v[i].rootOfNonNegative / rootCorrection2 + ε
            p[i] = shrink * p[i] - stepSize * (m[i] / denominator)
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
