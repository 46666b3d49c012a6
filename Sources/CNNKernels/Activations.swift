// Element-wise activations on buffers, forward above backward.
// x: input, y: output, dy: ∂L/∂y, dx: ∂L/∂x; all of length `count`.
import RealModule

/// `y = max(0, x)`.
@inlinable
public func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
  for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
}

/// `dx = dy · [x > 0]` (the subgradient at 0 is taken as 0, as in PyTorch).
@inlinable
public func reluBackward(
  input x: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, dInput dx: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
}

/// `y = 1 / (1 + e^(−x))`, computed without overflow for large |x|.
@inlinable
public func sigmoidForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
  for i in 0..<count {
    let v = x[i]
    if v >= 0 {
      y[i] = 1 / (1 + Float.exp(-v))
    } else {
      let e = Float.exp(v)
      y[i] = e / (1 + e)
    }
  }
}

/// `dx = dy · y · (1 − y)`, from the forward output `y`.
@inlinable
public func sigmoidBackward(
  output y: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, dInput dx: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { dx[i] = dy[i] * y[i] * (1 - y[i]) }
}

/// `y = tanh(x)`.
@inlinable
public func tanhForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
  for i in 0..<count { y[i] = Float.tanh(x[i]) }
}

/// `dx = dy · (1 − y²)`, from the forward output `y`.
@inlinable
public func tanhBackward(
  output y: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, dInput dx: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { dx[i] = dy[i] * (1 - y[i] * y[i]) }
}
