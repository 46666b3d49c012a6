// Small vectorised copies, adds and fills over Float buffers, shared by the kernels.

/// `dst[0 ..< count] = src[0 ..< count]` (no overlap between them), 16, 8 or 4 floats at a time;
/// a ragged end is covered by one more vector that overlaps the previous one.
@inline(__always)
func copyFloats(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
  if count >= 16 {
    var i = 0
    while i + 16 <= count {
      copyVector(SIMD16<Float>.self, from: src + i, to: dst + i)
      i += 16
    }
    if i < count { copyVector(SIMD16<Float>.self, from: src + count - 16, to: dst + count - 16) }
  } else if count >= 8 {
    // Two overlapping 8-float copies (runs of 8 to 15: an output row of a 14x14 map).
    copyVector(SIMD8<Float>.self, from: src, to: dst)
    copyVector(SIMD8<Float>.self, from: src + count - 8, to: dst + count - 8)
  } else if count >= 4 {
    copyVector(SIMD4<Float>.self, from: src, to: dst)
    copyVector(SIMD4<Float>.self, from: src + count - 4, to: dst + count - 4)
  } else {
    for i in 0..<count { dst[i] = src[i] }
  }
}

/// Copies one unaligned vector of `V` from `src` to `dst`.
@inline(__always)
func copyVector<V: SIMD>(_: V.Type, from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>)
where V.Scalar == Float {
  UnsafeMutableRawPointer(dst).storeBytes(of: UnsafeRawPointer(src).loadUnaligned(as: V.self), as: V.self)
}

/// `dst[0 ..< count] += src[0 ..< count]` (no overlap between them), 8 floats at a time.
@inline(__always)
func addFloats(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  while i + 8 <= count {
    let sum = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
      + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
    UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    dst[i] += src[i]
    i += 1
  }
}

/// `dst[0 ..< count] = 0`, 16 floats at a time.
@inline(__always)
func fillZero(_ dst: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  while i + 16 <= count {
    UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<Float>(), as: SIMD16<Float>.self)
    i += 16
  }
  while i < count {
    dst[i] = 0
    i += 1
  }
}
