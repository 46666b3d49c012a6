// The per-channel sums of batch normalization, in Double over eight lanes: each plane of a
// channel is read as `SIMD8<Float>` and widened, so the additions run in parallel instead of
// one long chain. The order of the additions depends only on the plane's length, never on the
// thread that runs the channel.

extension BatchNorm2D {
  /// `Σ x[i]` for `i` in `0..<count`.
  @inline(__always)
  static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var lanes = SIMD8<Double>.zero
    var i = 0
    while i + 8 <= count {
      lanes += SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
      i += 8
    }
    var total = lanes.sum()
    while i < count {
      total += Double(x[i])
      i += 1
    }
    return total
  }

  /// `Σ (x[i] − μ)²` for `i` in `0..<count`.
  @inline(__always)
  static func squaredDeviations(_ x: UnsafePointer<Float>, count: Int, mean: Double) -> Double {
    var lanes = SIMD8<Double>.zero
    let mu = SIMD8<Double>(repeating: mean)
    var i = 0
    while i + 8 <= count {
      let d = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)) - mu
      lanes += d * d
      i += 8
    }
    var total = lanes.sum()
    while i < count {
      let d = Double(x[i]) - mean
      total += d * d
      i += 1
    }
    return total
  }

  /// `(Σ g[i], Σ g[i]·x̂[i])` with `x̂ = (x − μ)·invσ` (in `Float`, as the forward pass
  /// normalizes), for `i` in `0..<count`, where `g = dy`, or with a fused ReLU after the
  /// normalization (`reluOutput`, its output `r`), `g = r > 0 ? dy : 0`: the gradient
  /// `ReLU`'s pullback would have passed on.
  @inline(__always)
  static func gradientSums(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, reluOutput r: UnsafePointer<Float>?, count: Int,
    mean: Float, inverseDeviation: Float
  ) -> (sum: Double, sumNormalized: Double) {
    var sums = SIMD8<Double>.zero
    var normalizedSums = SIMD8<Double>.zero
    let mu = SIMD8<Float>(repeating: mean)
    let inverse = SIMD8<Float>(repeating: inverseDeviation)
    let zero = SIMD8<Float>.zero
    var i = 0
    while i + 8 <= count {
      var g32 = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
      if let r { g32 = zero.replacing(with: g32, where: UnsafeRawPointer(r + i).loadUnaligned(as: SIMD8<Float>.self) .> zero) }
      let g = SIMD8<Double>(g32)
      let normalized = (UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - mu) * inverse
      sums += g
      normalizedSums += g * SIMD8<Double>(normalized)
      i += 8
    }
    var sum = sums.sum()
    var sumNormalized = normalizedSums.sum()
    while i < count {
      let g = Double(reluGradient(dy, r, i))
      sum += g
      sumNormalized += g * Double((x[i] - mean) * inverseDeviation)
      i += 1
    }
    return (sum, sumNormalized)
  }

  /// `dy[i]`, or with a fused ReLU whose output is `r`, `r[i] > 0 ? dy[i] : 0` (`reluBackward`'s
  /// rule: `r > 0` exactly where the ReLU's input was).
  @inline(__always)
  static func reluGradient(_ dy: UnsafePointer<Float>, _ r: UnsafePointer<Float>?, _ i: Int) -> Float {
    guard let r else { return dy[i] }
    return r[i] > 0 ? dy[i] : 0
  }

  /// `y = x·scale + shift`, then `y < 0 ? 0 : y` when `relu` (`reluForward`'s rule), eight
  /// values at a time: the same operations on every value, so vector lanes and the scalar tail
  /// agree bit for bit.
  @inline(__always)
  static func normalize(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float, relu: Bool
  ) {
    let (scales, shifts, zero) = (SIMD8<Float>(repeating: scale), SIMD8<Float>(repeating: shift), SIMD8<Float>.zero)
    var i = 0
    while i + 8 <= count {
      var v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) * scales + shifts
      if relu { v.replace(with: zero, where: v .< zero) }
      UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
      i += 8
    }
    while i < count {
      let v = x[i] * scale + shift
      y[i] = relu && v < 0 ? 0 : v
      i += 1
    }
  }

  /// `∂L/∂x = scale·(M·g − Σg − (x − μ)·invσ·Σg·x̂)` with `g = dy`, or `r > 0 ? dy : 0` with a
  /// fused ReLU whose output is `r`; eight values at a time, the same operations on each.
  @inline(__always)
  static func inputGradient(
    _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, reluOutput r: UnsafePointer<Float>?,
    _ dx: UnsafeMutablePointer<Float>, count: Int,
    coefficients: (scale: Float, m: Float, sum: Float, mean: Float, inverse: Float, sumNormalized: Float)
  ) {
    let (scale, m, sum, mean, inverse, sumNormalized) = coefficients
    let zero = SIMD8<Float>.zero
    var i = 0
    while i + 8 <= count {
      var g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
      if let r { g = zero.replacing(with: g, where: UnsafeRawPointer(r + i).loadUnaligned(as: SIMD8<Float>.self) .> zero) }
      let centered = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - mean
      let value = scale * (m * g - sum - centered * inverse * sumNormalized)
      UnsafeMutableRawPointer(dx + i).storeBytes(of: value, as: SIMD8<Float>.self)
      i += 8
    }
    while i < count {
      dx[i] = scale * (m * reluGradient(dy, r, i) - sum - (x[i] - mean) * inverse * sumNormalized)
      i += 1
    }
  }
}
