import CNNTensor

/// Non-learned state that a layer keeps between calls, such as batch normalization's running
/// statistics; PyTorch's "buffers".
///
/// Buffers are references, like `Parameter`s: a layer updates `value` in place, and a
/// checkpoint loader can write into it by its structural name (`"bn1.running_mean"`).
/// Optimizers never see them, and they do not count towards `parameterCount`.
public final class Buffer: CustomStringConvertible {
  /// The current value.
  public var value: Tensor

  /// Creates a buffer holding `value`.
  public init(_ value: Tensor) {
    self.value = value
  }

  /// The shape of `value`.
  public var shape: Shape { value.shape }

  public var description: String { "Buffer\(shape)" }
}
