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

/// Stores the transpose of the 4x4 block with rows `a`, `b`, `c`, `d`: column q goes to
/// `dst + q*stride` (unpack and move-half shuffles).
@inline(__always)
func transpose4x4(
  _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>,
  into dst: UnsafeMutablePointer<Float>, stride: Int
) {
  let ab0 = SIMD4<Float>(a[0], b[0], a[1], b[1]), ab1 = SIMD4<Float>(a[2], b[2], a[3], b[3])
  let cd0 = SIMD4<Float>(c[0], d[0], c[1], d[1]), cd1 = SIMD4<Float>(c[2], d[2], c[3], d[3])
  store4(SIMD4<Float>(ab0[0], ab0[1], cd0[0], cd0[1]), dst)
  store4(SIMD4<Float>(ab0[2], ab0[3], cd0[2], cd0[3]), dst + stride)
  store4(SIMD4<Float>(ab1[0], ab1[1], cd1[0], cd1[1]), dst + 2 * stride)
  store4(SIMD4<Float>(ab1[2], ab1[3], cd1[2], cd1[3]), dst + 3 * stride)
}

/// Loads 4 floats from `p` (any alignment).
@inline(__always)
func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

/// Stores 4 floats at `p` (any alignment).
@inline(__always)
func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}
