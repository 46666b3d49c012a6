// Element-wise activations on buffers, forward above backward.
// x: input, y: output, dy: ∂L/∂y, dx: ∂L/∂x; all of length `count`.
// ReLU runs 16 lanes at a time without branches (a branchy scalar loop mispredicts on half
// of the elements); all of them split large arrays over the worker threads.
import RealModule

/// Elements per thread below which an element-wise kernel stays on the calling thread.
@usableFromInline let elementwiseGrain = 1 << 16

/// Runs `body` over `0..<count` in chunks, in parallel when `count` is large.
@inlinable
func elementwise(_ count: Int, _ body: (Range<Int>) -> Void) {
  let threads = min(ComputeThreads.count, max(1, count / elementwiseGrain))
  parallelChunks(count, threads: threads) { _, range in body(range) }
}

/// `y = max(0, x)`: `x < 0 ? 0 : x`, so a NaN stays NaN (as in PyTorch) and −0 stays −0.
public func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
  clampingNegatives(count, into: y) { UnsafeRawPointer(x + $0).loadUnaligned(as: SIMD16<Float>.self) } scalar: { x[$0] }
}

/// `y = max(0, a + b)` in one pass (a residual block's sum and its ReLU): `reluForward` of
/// `a + b`, bit for bit, without writing the sum.
public func addReLUForward(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
) {
  clampingNegatives(count, into: y) {
    UnsafeRawPointer(a + $0).loadUnaligned(as: SIMD16<Float>.self)
      + UnsafeRawPointer(b + $0).loadUnaligned(as: SIMD16<Float>.self)
  } scalar: { a[$0] + b[$0] }
}

/// `y[i] = v < 0 ? 0 : v` for the values `v` of `0..<count`, sixteen at a time from `vector(i)`
/// and the rest one at a time from `scalar(i)` (which must compute the same values): the vector
/// lanes and the scalar tail treat NaN and −0 alike.
@inline(__always)
func clampingNegatives(
  _ count: Int, into y: UnsafeMutablePointer<Float>, vector: (Int) -> SIMD16<Float>, scalar: (Int) -> Float
) {
  elementwise(count) { range in
    let zero = SIMD16<Float>(repeating: 0)
    var i = range.lowerBound
    while i + 16 <= range.upperBound {
      let v = vector(i)
      UnsafeMutableRawPointer(y + i).storeBytes(of: v.replacing(with: zero, where: v .< zero), as: SIMD16<Float>.self)
      i += 16
    }
    while i < range.upperBound {
      let v = scalar(i)
      y[i] = v < 0 ? 0 : v
      i += 1
    }
  }
}

/// `dx = dy · [x > 0]` (the subgradient at 0 is taken as 0, as in PyTorch).
public func reluBackward(
  input x: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, dInput dx: UnsafeMutablePointer<Float>, count: Int
) {
  elementwise(count) { range in
    let zero = SIMD16<Float>(repeating: 0)
    var i = range.lowerBound
    while i + 16 <= range.upperBound {
      let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
      let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD16<Float>.self)
      UnsafeMutableRawPointer(dx + i).storeBytes(of: zero.replacing(with: g, where: v .> zero), as: SIMD16<Float>.self)
      i += 16
    }
    while i < range.upperBound {
      dx[i] = x[i] > 0 ? dy[i] : 0
      i += 1
    }
  }
}

/// `y = 1 / (1 + e^(−x))`, computed without overflow for large |x|.
public func sigmoidForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
  elementwise(count) { range in
    for i in range {
      let v = x[i]
      if v >= 0 {
        y[i] = 1 / (1 + Float.exp(-v))
      } else {
        let e = Float.exp(v)
        y[i] = e / (1 + e)
      }
    }
  }
}

/// `dx = dy · y · (1 − y)`, from the forward output `y`.
public func sigmoidBackward(
  output y: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, dInput dx: UnsafeMutablePointer<Float>, count: Int
) {
  elementwise(count) { range in
    for i in range { dx[i] = dy[i] * y[i] * (1 - y[i]) }
  }
}

/// `y = tanh(x)`.
public func tanhForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
  elementwise(count) { range in
    for i in range { y[i] = Float.tanh(x[i]) }
  }
}

/// `dx = dy · (1 − y²)`, from the forward output `y`.
public func tanhBackward(
  output y: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, dInput dx: UnsafeMutablePointer<Float>, count: Int
) {
  elementwise(count) { range in
    for i in range { dx[i] = dy[i] * (1 - y[i] * y[i]) }
  }
}
