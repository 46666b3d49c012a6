/// Element-wise arithmetic. Shapes must match exactly (no broadcasting).
extension Tensor {
  /// `lhs + rhs`, element by element.
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    lhs.zipMap(rhs, "+") { $0 + $1 }
  }

  /// `lhs − rhs`, element by element.
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    lhs.zipMap(rhs, "-") { $0 - $1 }
  }

  /// `lhs · rhs`, element by element.
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    lhs.zipMap(rhs, "*") { $0 * $1 }
  }

  /// Every element times `scale`.
  public static func * (lhs: Tensor, scale: Float) -> Tensor { lhs.map { $0 * scale } }

  /// Adds `rhs` into `lhs`, element by element.
  public static func += (lhs: inout Tensor, rhs: Tensor) {
    Swift.precondition(lhs.shape == rhs.shape, "+= needs equal shapes, got \(lhs.shape) and \(rhs.shape)")
    lhs.withUnsafeMutableBufferPointer { l in
      rhs.withUnsafeBufferPointer { r in
        for i in l.indices { l[i] += r[i] }
      }
    }
  }

  /// A tensor of the same shape with `transform` applied to every element.
  @inlinable
  public func map(_ transform: (Float) -> Float) -> Tensor {
    withUnsafeBufferPointer { source in
      Tensor(shape: shape, unsafeUninitialized: { out in
        for i in source.indices { out[i] = transform(source[i]) }
      })
    }
  }

  /// Combines two tensors of equal shape element by element.
  @inlinable
  public func zipMap(_ other: Tensor, _ name: String = "zipMap", _ combine: (Float, Float) -> Float) -> Tensor {
    Swift.precondition(shape == other.shape, "\(name) needs equal shapes, got \(shape) and \(other.shape)")
    return withUnsafeBufferPointer { a in
      other.withUnsafeBufferPointer { b in
        Tensor(shape: shape, unsafeUninitialized: { out in
          for i in a.indices { out[i] = combine(a[i], b[i]) }
        })
      }
    }
  }

  /// The sum of all elements (accumulated in `Double`).
  public func sum() -> Float {
    withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) } }.asFloat
  }

  /// The largest absolute difference to `other` (same shape).
  public func maxAbsoluteDifference(to other: Tensor) -> Float {
    Swift.precondition(shape == other.shape, "Comparing shapes \(shape) and \(other.shape)")
    var result: Float = 0
    for i in 0..<scalarCount { result = Swift.max(result, Swift.abs(scalars[i] - other.scalars[i])) }
    return result
  }
}

extension Double {
  fileprivate var asFloat: Float { Float(self) }
}
