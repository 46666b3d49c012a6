// Packing: copying blocks of A and B into the panel layouts the micro-kernels stream through.
//
// A block (mc × kc) → ceil(mc / MR) strips; strip s holds, for each p, the MR values
//   A[i0 + s·MR + i, p0 + p] at `strip[p·MR + i]` (rows past mc are zero).
// B block (kc × nc) → ceil(nc / NR) strips; strip s holds, for each r, the NR values
//   B[k0 + r, j0 + s·NR + t] at `strip[r·NR + t]` (columns past nc are zero).
// Zero padding lets the kernels always run full MR × NR tiles; only the store is partial.

import CCNNKernels

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
      // Row i of op(A) is contiguous: it becomes column i of the strip.
      packRunsAsColumns(a + (i0 + row) * lda + p0, runStride: lda, runs: rows, length: kc, into: strip, width: mr)
    }
    s += 1
    row += mr
  }
}

/// A left operand A (`rows × depth`, row-major) packed once, whole, as `gemm` packs it block by
/// block, for GEMMs that reuse it (a layer's filters over many inference calls).
///
/// Layout: for each depth block `p0 ..< p0 + kc` (the blocks `gemm` takes: `depth` cut into
/// equal blocks of at most KC), the MR-row strips of every row, so the block of rows
/// `i0 ..< i0 + mc` (`i0` a multiple of MR) is `base + p0 · ⌈rows/MR⌉·MR + i0 · kc`, laid out
/// exactly as `packA` lays it out.
final class PackedLeftOperand: @unchecked Sendable {
  let storage: FloatBuffer
  let kernel: GEMMKernel
  /// m, the rows of A.
  let rows: Int
  /// k, the columns of A.
  let depth: Int
  /// The depth of the blocks (`gemm`'s KC for this depth).
  let depthBlock: Int
  /// `rows` rounded up to a multiple of MR.
  let paddedRows: Int

  /// Packs `A[i, p] = a[i · lda + p]` for the micro-kernel `kernel`.
  init(_ a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int, kernel: GEMMKernel) {
    self.kernel = kernel
    self.rows = rows
    self.depth = depth
    depthBlock = balancedBlock(depth, limit: kernel.kc, step: 1)
    paddedRows = roundUp(rows, to: kernel.mr)
    storage = FloatBuffer(count: paddedRows * depth)
    for p0 in stride(from: 0, to: depth, by: depthBlock) {
      let kc = min(depthBlock, depth - p0)
      packA(
        a, lda: lda, transposed: false, i0: 0, mc: rows, p0: p0, kc: kc, mr: kernel.mr,
        into: storage.base + p0 * paddedRows)
    }
  }

  deinit { storage.deallocate() }

  /// Floats held.
  var floatCount: Int { paddedRows * depth }

  /// The packed block of rows from `i0` (a multiple of MR) at depth `p0 ..< p0 + kc`.
  func block(rows i0: Int, depth p0: Int, kc: Int) -> UnsafePointer<Float> {
    UnsafePointer(storage.base + p0 * paddedRows + i0 * kc)
  }
}

extension StridedMatrix {
  /// Packs `B[k0 ..< k0 + kc, j0 ..< j0 + nc]` into `nr`-column strips (see
  /// `GEMMRightOperand.pack`). Row-major B copies contiguous runs of `nr` floats;
  /// transposed B's columns are contiguous runs, transposed into the strips 8×8 at a time.
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
        // Column j of B is contiguous: it becomes column j of the strip.
        packRunsAsColumns(base + (j0 + col) * ld + k0, runStride: ld, runs: width, length: kc, into: strip, width: nr)
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

/// Writes `runs` contiguous source runs of `length` floats, `runStride` apart, as the first
/// `runs` columns of a `length × width` strip, and zeros in the columns after them:
/// `strip[p·width + i] = source[i·runStride + p]`. In C (`ccnn_pack_runs_as_columns`, eight
/// runs × eight values transposed in registers at a time, the widest vectors the CPU has).
@inline(__always)
private func packRunsAsColumns(
  _ source: UnsafePointer<Float>, runStride: Int, runs: Int, length: Int,
  into strip: UnsafeMutablePointer<Float>, width: Int
) {
  ccnn_pack_runs_as_columns(source, runStride, runs, length, strip, width)
}
