/// An n-dimensional array of `Float` with value semantics; image batches are NCHW.
///
/// Storage is a copy-on-write `[Float]` in row-major order: for `[N, C, H, W]` the element
/// `(n, c, h, w)` sits at `((n·C + c)·H + h)·W + w`. Kernels see the buffer, never the tensor.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
  /// The dimensions, outermost first.
  public private(set) var shape: Shape
  /// The elements in row-major order; `scalars.count == shape.scalarCount`.
  public internal(set) var scalars: [Float]

  /// Creates a tensor from its elements in row-major order.
  public init(shape: Shape, scalars: [Float]) {
    Swift.precondition(
      shape.scalarCount == scalars.count,
      "Tensor of shape \(shape) needs \(shape.scalarCount) scalars, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  /// A tensor of `shape` filled with `value`.
  public init(repeating value: Float, shape: Shape) {
    self.init(shape: shape, scalars: [Float](repeating: value, count: shape.scalarCount))
  }

  /// A tensor of zeros.
  public static func zeros(_ shape: Shape) -> Tensor { Tensor(repeating: 0, shape: shape) }

  /// A tensor whose elements are written by `initializer`, which must set every element
  /// of the buffer it is given (the buffer starts uninitialized).
  @inlinable
  public init(shape: Shape, unsafeUninitialized initializer: (UnsafeMutableBufferPointer<Float>) -> Void) {
    let count = shape.scalarCount
    let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      initializer(buffer)
      initialized = count
    }
    self.init(shape: shape, scalars: scalars)
  }

  /// The number of elements.
  public var scalarCount: Int { scalars.count }

  /// The tensor with the same elements and another shape of the same element count.
  public func reshaped(_ newShape: Shape) -> Tensor {
    Swift.precondition(
      newShape.scalarCount == shape.scalarCount,
      "Cannot reshape \(shape) (\(shape.scalarCount) elements) to \(newShape) (\(newShape.scalarCount) elements)")
    return Tensor(shape: newShape, scalars: scalars)
  }

  /// Calls `body` with the elements.
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try scalars.withUnsafeBufferPointer(body)
  }

  /// Calls `body` with the elements, mutable (copying first if the storage is shared).
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try scalars.withUnsafeMutableBufferPointer(body)
  }

  /// Reads or writes one element by its position in `scalars` (row-major order).
  public subscript(offset offset: Int) -> Float {
    get { scalars[offset] }
    set { scalars[offset] = newValue }
  }

  /// Reads or writes one element by its full index, e.g. `t[n, c, h, w]`.
  public subscript(_ index: Int...) -> Float {
    get { scalars[offset(of: index)] }
    set { scalars[offset(of: index)] = newValue }
  }

  private func offset(of index: [Int]) -> Int {
    Swift.precondition(index.count == shape.rank, "Index \(index) has \(index.count) parts; shape \(shape) has \(shape.rank)")
    var offset = 0
    for (i, (position, size)) in zip(index, shape.dimensions).enumerated() {
      Swift.precondition(position >= 0 && position < size, "Index \(index) is out of range in dimension \(i) of shape \(shape)")
      offset = offset * size + position
    }
    return offset
  }

  /// Traps with a message naming both shapes unless `shape == expected`.
  public func expectShape(_ expected: Shape, _ context: @autoclosure () -> String) {
    Swift.precondition(shape == expected, "\(context()) expects shape \(expected), got \(shape)")
  }

  public var description: String {
    let preview = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
    return "Tensor\(shape)(\(preview)\(scalars.count > 8 ? ", …" : ""))"
  }
}
