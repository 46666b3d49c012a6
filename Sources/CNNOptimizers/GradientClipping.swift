import CNNLayers

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`
/// (`torch.nn.utils.clip_grad_norm_`): with `‖g‖` the norm of every gradient element of every
/// parameter, each gradient is multiplied by `maxNorm / (‖g‖ + 10⁻⁶)` when that is below 1.
///
/// Call it between the backward pass and `Optimizer.step`.
///
/// - Returns: The norm before clipping (NaN or infinite if a gradient is).
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
  precondition(maxNorm > 0, "clipGradientNorm needs maxNorm > 0, got \(maxNorm)")
  var sumOfSquares = 0.0
  for parameter in parameters {
    parameter.gradient.withUnsafeBufferPointer { gradient in
      var sum: Float = 0
      for g in gradient { sum += g * g }
      sumOfSquares += Double(sum)
    }
  }
  let norm = sumOfSquares.squareRoot()
  let coefficient = Double(maxNorm) / (norm + 1e-6)
  if coefficient < 1 {
    let scale = Float(coefficient)
    for parameter in parameters {
      parameter.gradient.withUnsafeMutableBufferPointer { gradient in
        for i in gradient.indices { gradient[i] *= scale }
      }
    }
  }
  return Float(norm)
}
