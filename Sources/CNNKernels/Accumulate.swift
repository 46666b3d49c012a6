// Adding buffers into another, element by element: a residual block's two input gradients,
// and the threads' partial sums of a weight gradient.

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

/// `target[i] += parts[p · partStride + i]` for the parts `p = 0 ..< partCount` in order, for
/// `i` in `0..<count`: the per-thread partial sums of a gradient added into it. Each element's
/// parts are added in the same order whatever the split, so the results do not depend on
/// `threads`; the elements are split over the threads from 32 K of them.
func addPartialSums(
  _ parts: UnsafePointer<Float>, partStride: Int, partCount: Int, into target: UnsafeMutablePointer<Float>,
  count: Int, threads: Int
) {
  guard partCount > 0 else { return }
  parallelChunks(count, threads: count < 1 << 15 ? 1 : threads) { _, range in
    for p in 0..<partCount {
      let part = parts + p * partStride
      for i in range { target[i] += part[i] }
    }
  }
}
