import CNNTensor
import RealModule

/// Local response normalization across channels (Krizhevsky, Sutskever & Hinton, 2012,
/// "ImageNet Classification with Deep Convolutional Neural Networks", section 3.3), with
/// PyTorch's `LocalResponseNorm` formula.
///
/// Shape: input `[N, C, …]` (usually `[N, C, H, W]`) → the same. With `n = size`:
/// `y_c = x_c / (k + (α/n) · Σ_{c'} x_{c'}²)^β`, where `c'` runs over the channels
/// `c − ⌊n/2⌋ … c + ⌊(n−1)/2⌋` that exist (missing ones count as zero), at the same position.
///
/// PyTorch divides `α` by `n`; the AlexNet paper does not. The paper's `k = 2, n = 5,
/// α = 10⁻⁴, β = 0.75` is therefore `LocalResponseNorm(size: 5, alpha: 5e-4, beta: 0.75, k: 2)`.
///
/// Backward, with `b_c = k + (α/n)·S_c`:
/// `∂L/∂x_j = dy_j·b_j^(−β) − (2αβ/n)·x_j·Σ_{c : j ∈ window(c)} dy_c·x_c·b_c^(−β−1)`.
/// No learned parameters.
public final class LocalResponseNorm: Layer {
  /// `n`, the number of neighbouring channels summed over.
  public let size: Int
  /// `α`, the scale of the sum (divided by `n`).
  public let alpha: Float
  /// `β`, the exponent.
  public let beta: Float
  /// `k`, the additive constant.
  public let k: Float

  /// Creates a normalization over `size` neighbouring channels; the defaults are PyTorch's.
  public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) {
    precondition(size > 0, "LocalResponseNorm size must be positive, got \(size)")
    self.size = size
    self.alpha = alpha
    self.beta = beta
    self.k = k
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    guard input.rank >= 3 else {
      throw ShapeError(
        layer: "LocalResponseNorm", expected: "[N, C, H, W] (or [N, C, L])", got: input,
        reason: "expects channels, got \(input)")
    }
    return input
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let shape = trappingOnShapeError { () throws(ShapeError) in try self.outputShape(for: input.shape) }
    let (batch, channels) = (shape[0], shape[1])
    let plane = shape.scalarCount / max(1, batch * channels)
    let (before, after) = (size / 2, (size - 1) / 2)
    let scale = alpha / Float(size)
    // b_c = k + (α/n)·Σ x², per element.
    let denominatorBase = Tensor(
      shape: shape,
      writingWith: { b in
        input.withPointer { x in
          for n in 0..<batch {
            for c in 0..<channels {
              let base = (n * channels + c) * plane
              for i in 0..<plane { b[base + i] = 0 }
              for neighbour in max(0, c - before)...min(channels - 1, c + after) {
                let source = (n * channels + neighbour) * plane
                for i in 0..<plane { b[base + i] += x[source + i] * x[source + i] }
              }
              for i in 0..<plane { b[base + i] = k + scale * b[base + i] }
            }
          }
        }
      })
    let (beta, alpha) = (beta, alpha)
    let output = input.zipMap(denominatorBase, "LocalResponseNorm") { x, b in x * Float.exp(-beta * Float.log(b)) }
    return (
      output,
      { [size] dOutput in
        dOutput.expectShape(shape, "LocalResponseNorm pullback")
        guard needsInputGradient else { return .zeros([0]) }
        // t_c = dy_c · x_c · b_c^(−β−1), then dx_j = dy_j·b_j^(−β) − (2αβ/n)·x_j·Σ t_c.
        let t = Tensor(
          shape: shape,
          writingWith: { t in
            withPointers(input, dOutput, denominatorBase) { x, dy, b in
              for i in 0..<shape.scalarCount { t[i] = dy[i] * x[i] * Float.exp((-beta - 1) * Float.log(b[i])) }
            }
          })
        let factor = 2 * alpha * beta / Float(size)
        return Tensor(
          shape: shape,
          writingWith: { dx in
            withPointers(input, dOutput, denominatorBase, t) { x, dy, b, t in
              for n in 0..<batch {
                for j in 0..<channels {
                  let base = (n * channels + j) * plane
                  for i in 0..<plane { dx[base + i] = 0 }
                  // Channels c whose window holds j: j − after … j + before.
                  for c in max(0, j - after)...min(channels - 1, j + before) {
                    let source = (n * channels + c) * plane
                    for i in 0..<plane { dx[base + i] += t[source + i] }
                  }
                  for i in 0..<plane {
                    let e = base + i
                    dx[e] = dy[e] * Float.exp(-beta * Float.log(b[e])) - factor * x[e] * dx[e]
                  }
                }
              }
            }
          })
      }
    )
  }
}
