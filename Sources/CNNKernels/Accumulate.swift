// Adding one buffer into another, element by element: a residual block's two input gradients.

/// `target[i] += source[i]` for `i` in `0..<count`, sixteen lanes at a time, split over the
/// worker threads when `count` is large (as the activations are): the same sums as a plain
/// loop, since each element is one addition.
public func accumulate(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
  elementwise(count) { range in
    var i = range.lowerBound
    while i + 16 <= range.upperBound {
      let sum =
        UnsafeRawPointer(target + i).loadUnaligned(as: SIMD16<Float>.self)
        + UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Float>.self)
      UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: SIMD16<Float>.self)
      i += 16
    }
    while i < range.upperBound {
      target[i] += source[i]
      i += 1
    }
  }
}
