import CNNTensor

/// A learned tensor and the gradient of the loss with respect to it.
///
/// Parameters are references: pullbacks accumulate into `gradient`, optimizers update
/// `value` in place and keep their own state keyed by the parameter's identity. Nothing
/// ever replaces a layer's `Parameter`, so references held elsewhere stay valid.
public final class Parameter: CustomStringConvertible {
  /// The current value.
  public var value: Tensor {
    // Every change goes through here (an assignment, or an in-place update through `_modify`,
    // which a `didSet` that does not read the old value keeps in place).
    didSet { version &+= 1 }
  }

  /// Counts the changes to `value`: whatever is derived from the value and kept (a layer's
  /// `PreparedFilters`) is current while this stays the same.
  public private(set) var version: UInt64 = 0
  /// `∂L/∂value`, accumulated by pullbacks since the last `zeroGradient()`.
  ///
  /// Zeros of `value`'s shape until something adds to it; the memory is taken on first use, as
  /// PyTorch's `.grad` is, so a network that only infers holds no gradients (VGG-16's would
  /// be 553 MB).
  public var gradient: Tensor {
    get {
      if let storedGradient { return storedGradient }
      let zeros = Tensor.zeros(value.shape)
      storedGradient = zeros
      return zeros
    }
    set { storedGradient = newValue }
    // In place: through get and set, every `+=` would copy the whole tensor.
    _modify {
      if storedGradient == nil { storedGradient = .zeros(value.shape) }
      yield &storedGradient!
    }
  }

  /// The gradient once something has used it; `nil` before.
  private(set) var storedGradient: Tensor?

  /// Creates a parameter whose gradient is zero (taken from memory on first use).
  public init(_ value: Tensor) {
    self.value = value
  }

  /// The shape of `value` (and of `gradient`).
  public var shape: Shape { value.shape }

  /// Sets every element of `gradient` to zero (nothing to do before its first use).
  public func zeroGradient() {
    guard storedGradient != nil else { return }
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
