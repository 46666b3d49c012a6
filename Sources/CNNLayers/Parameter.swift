import CNNTensor

/// A learned tensor and the gradient of the loss with respect to it.
///
/// Parameters are references: pullbacks accumulate into `gradient`, optimizers update
/// `value` in place and keep their own state keyed by the parameter's identity. Nothing
/// ever replaces a layer's `Parameter`, so references held elsewhere stay valid.
public final class Parameter: CustomStringConvertible {
  /// The current value.
  public var value: Tensor
  /// `∂L/∂value`, accumulated by pullbacks since the last `zeroGradient()`.
  public var gradient: Tensor

  /// Creates a parameter with a zero gradient of the same shape.
  public init(_ value: Tensor) {
    self.value = value
    self.gradient = .zeros(value.shape)
  }

  /// The shape of `value` (and of `gradient`).
  public var shape: Shape { value.shape }

  /// Sets every element of `gradient` to zero.
  public func zeroGradient() {
    gradient.withUnsafeMutableBufferPointer { g in
      for i in g.indices { g[i] = 0 }
    }
  }

  /// Adds `delta` into `gradient` (shapes must match).
  public func accumulateGradient(_ delta: Tensor) {
    gradient += delta
  }

  public var description: String { "Parameter\(shape)" }
}
