/// Raw access for kernels, which take pointers plus sizes.
extension Tensor {
  /// Calls `body` with a pointer to the first element. For an empty tensor the pointer is
  /// valid but points at no element, so kernels given a size of zero never read it.
  @inlinable
  public func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
    try withUnsafeBufferPointer { buffer in
      if let base = buffer.baseAddress { return try body(base) }
      var placeholder: Float = 0
      return try Swift.withUnsafePointer(to: &placeholder) { try body($0) }
    }
  }

  /// Calls `body` with a mutable pointer to the first element (copying shared storage first).
  public mutating func withMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    try withUnsafeMutableBufferPointer { buffer in
      if let base = buffer.baseAddress { return try body(base) }
      var placeholder: Float = 0
      return try Swift.withUnsafeMutablePointer(to: &placeholder) { try body($0) }
    }
  }

  /// A tensor of `shape` whose elements `body` writes through a pointer; every element must be set.
  @inlinable
  public init(shape: Shape, writingWith body: (UnsafeMutablePointer<Float>) -> Void) {
    self.init(shape: shape) { buffer in
      if let base = buffer.baseAddress {
        body(base)
      } else {
        var placeholder: Float = 0
        Swift.withUnsafeMutablePointer(to: &placeholder) { body($0) }
      }
    }
  }
}
