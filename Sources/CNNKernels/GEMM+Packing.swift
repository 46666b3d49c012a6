// Packing: copying blocks of A and B into the panel layouts the micro-kernels stream through.
//
// A block (mc × kc) → ceil(mc / MR) strips; strip s holds, for each p, the MR values
//   A[i0 + s·MR + i, p0 + p] at `strip[p·MR + i]` (rows past mc are zero).
// B block (kc × nc) → ceil(nc / NR) strips; strip s holds, for each r, the NR values
//   B[k0 + r, j0 + s·NR + t] at `strip[r·NR + t]` (columns past nc are zero).
// Zero padding lets the kernels always run full MR × NR tiles; only the store is partial.

/// Packs `op(A)[i0 ..< i0 + mc, p0 ..< p0 + kc]` into `panel` as MR-row strips.
///
/// `op(A)[i, p]` is `a[i·lda + p]`, or `a[p·lda + i]` when `transposed`.
/// Needs `ceil(mc / mr) · mr · kc` floats in `panel`.
func packA(
  _ a: UnsafePointer<Float>, lda: Int, transposed: Bool,
  i0: Int, mc: Int, p0: Int, kc: Int, mr: Int, into panel: UnsafeMutablePointer<Float>
) {
  var s = 0
  var row = 0
  while row < mc {
    let rows = min(mr, mc - row)
    let strip = panel + s * mr * kc
    if transposed {
      // Column p of op(A) is contiguous: copy `rows` values per p.
      for p in 0..<kc {
        let src = a + (p0 + p) * lda + i0 + row
        let dst = strip + p * mr
        for i in 0..<rows { dst[i] = src[i] }
        for i in rows..<mr { dst[i] = 0 }
      }
    } else {
      // Row i of op(A) is contiguous: 4 rows × 4 values at a time are transposed in
      // registers into the strip's columns; the rows past a multiple of 4 one by one.
      var i = 0
      while i + 4 <= rows {
        let s0 = a + (i0 + row + i) * lda + p0
        let (s1, s2, s3) = (s0 + lda, s0 + 2 * lda, s0 + 3 * lda)
        var p = 0
        while p + 4 <= kc {
          transpose4x4(load4(s0 + p), load4(s1 + p), load4(s2 + p), load4(s3 + p), into: strip + p * mr + i, stride: mr)
          p += 4
        }
        while p < kc {
          store4(SIMD4(s0[p], s1[p], s2[p], s3[p]), strip + p * mr + i)
          p += 1
        }
        i += 4
      }
      while i < rows {
        let src = a + (i0 + row + i) * lda + p0
        var dst = strip + i
        for p in 0..<kc {
          dst.pointee = src[p]
          dst += mr
        }
        i += 1
      }
      if rows < mr {
        for p in 0..<kc {
          (strip + p * mr + rows).update(repeating: 0, count: mr - rows)
        }
      }
    }
    s += 1
    row += mr
  }
}

extension StridedMatrix {
  /// Packs `B[k0 ..< k0 + kc, j0 ..< j0 + nc]` into `nr`-column strips (see
  /// `GEMMRightOperand.pack`). Row-major B copies contiguous runs of `nr` floats;
  /// transposed B reads 4 columns contiguously at a time and transposes 4×4 blocks.
  public func pack(
    into panel: UnsafeMutablePointer<Float>, k0: Int, kc: Int, j0: Int, nc: Int, nr: Int
  ) {
    let ld = leadingDimension
    var s = 0
    var col = 0
    while col < nc {
      let width = min(nr, nc - col)
      let strip = panel + s * kc * nr
      if transposed {
        // Column j of B is contiguous: 4 columns × 4 values at a time are transposed in
        // registers into the strip's rows; the columns past a multiple of 4 one by one.
        var t = 0
        while t + 4 <= width {
          let s0 = base + (j0 + col + t) * ld + k0
          let (s1, s2, s3) = (s0 + ld, s0 + 2 * ld, s0 + 3 * ld)
          var r = 0
          while r + 4 <= kc {
            transpose4x4(load4(s0 + r), load4(s1 + r), load4(s2 + r), load4(s3 + r), into: strip + r * nr + t, stride: nr)
            r += 4
          }
          while r < kc {
            store4(SIMD4(s0[r], s1[r], s2[r], s3[r]), strip + r * nr + t)
            r += 1
          }
          t += 4
        }
        while t < width {
          let src = base + (j0 + col + t) * ld + k0
          var dst = strip + t
          for r in 0..<kc {
            dst.pointee = src[r]
            dst += nr
          }
          t += 1
        }
        if width < nr {
          for r in 0..<kc { (strip + r * nr + width).update(repeating: 0, count: nr - width) }
        }
      } else {
        var src = base + k0 * ld + j0 + col
        var dst = strip
        if width == nr && nr % 16 == 0 {
          // Full strip: inline 16-float copies (a memmove call per 128-byte row costs more).
          for _ in 0..<kc {
            for v in stride(from: 0, to: nr, by: 16) {
              UnsafeMutableRawPointer(dst + v).storeBytes(
                of: UnsafeRawPointer(src + v).loadUnaligned(as: SIMD16<Float>.self),
                as: SIMD16<Float>.self)
            }
            src += ld
            dst += nr
          }
        } else {
          for _ in 0..<kc {
            dst.update(from: src, count: width)
            (dst + width).update(repeating: 0, count: nr - width)
            src += ld
            dst += nr
          }
        }
      }
      s += 1
      col += nr
    }
  }
}
