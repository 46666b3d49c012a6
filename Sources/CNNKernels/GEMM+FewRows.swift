// GEMM with few rows of C: 1–4 (up to 32 when B is a dense layer's weight, stored
// transposed) images through a fully connected layer, or a convolution at a small batch that
// runs at few positions. The packed GEMM would copy all of B into panels (for VGG's first
// dense layer, 25088 × 4096 floats, 411 MB, per call) for a few rows of A, and then run a
// micro-kernel whose 14-row tiles hold 1–4 real rows. Here B is read once, in place:
//
//   op(B) stored transposed (B[p, j] = b[j·ldb + p], a dense layer's weight [out, in]):
//     C[i, j] = alpha · ⟨A_i, b_j⟩ + beta · C[i, j], dot products of contiguous rows, four
//     rows b_j at a time (four memory streams in flight; C kernels, sdot_block.c)
//   op(B) stored row-major (B[p, j] = b[p·ldb + j]):
//     C[i, j0 ..< j0+16] = alpha · Σ_p A[i, p] · B[p, j0 ..< j0+16] + beta · C[…], 16 columns
//     at a time, B's rows streamed once per block of columns
//
// The columns of C are split over the threads; each value of C is summed by one thread in
// one fixed order, so the result does not depend on the thread count.
import CCNNKernels

/// The most rows of C that `gemm` computes straight from B, without packing.
let gemmFewRowsLimit = 4

/// The most rows of C that `gemm` computes straight from a B stored transposed (a dense
/// layer's weight), with the C kernels: each group of 4 rows of B is read from memory once
/// and used by every row of A, which stays in cache.
let gemmFewRowsTransposedLimit = 32

/// Whether `gemm` runs `gemmFewRows` for this shape.
func runsAsFewRows(m: Int, transposeB: Bool, kernel: GEMMKernel = .current) -> Bool {
  m >= 1 && (m <= gemmFewRowsLimit || (transposeB && kernel != .portable && m <= gemmFewRowsTransposedLimit))
}

/// `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C` for the shapes `runsAsFewRows` accepts,
/// with the contract of `gemmNaive` (beta == 0 overwrites C without reading it). `kernel`
/// picks the dot products' instructions (C with AVX-512 or AVX2, or Swift SIMD).
func gemmFewRows(
  kernel: GEMMKernel = .current, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
) {
  precondition(
    runsAsFewRows(m: m, transposeB: transposeB, kernel: kernel),
    "gemmFewRows takes 1 to \(gemmFewRowsLimit) rows (\(gemmFewRowsTransposedLimit) with B transposed), got \(m)")
  // op(A) as m contiguous rows of k.
  let rows = UnsafeMutablePointer<Float>.allocate(capacity: max(1, m * k))
  defer { rows.deallocate() }
  for i in 0..<m {
    for p in 0..<k { rows[i * k + p] = transposeA ? a[p * lda + i] : a[i * lda + p] }
  }
  let rowsA = UnsafePointer(rows)
  /// `C[i, j] = alpha · sum + beta · C[i, j]`.
  @inline(__always) func store(_ sum: Float, _ i: Int, _ j: Int) {
    let target = c + i * ldc + j
    target.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * target.pointee
  }
  let workers = 2 * m * n * k < 1 << 21 ? 1 : max(1, threads)
  if transposeB {
    parallelChunks(n, threads: workers) { _, columns in
      if kernel != .portable {
        // Up to 4 rows of the stored B at a time against every group of up to 4 rows of A
        // (which stay in cache): out[i·4 + t] = ⟨A_(i0+i), b_(j+t)⟩.
        let step = kernel == .avx2 && m > 2 ? 2 : 4
        var j = columns.lowerBound
        while j < columns.upperBound {
          let count = min(step, columns.upperBound - j)
          for i0 in stride(from: 0, to: m, by: 4) {
            let rows = min(4, m - i0)
            var sums = SIMD16<Float>()
            withUnsafeMutableBytes(of: &sums) { raw in
              let out = raw.baseAddress!.assumingMemoryBound(to: Float.self)
              dotBlock(kernel, k: k, m: rows, rowsA + i0 * k, count, b + j * ldb, ldb: ldb, out)
            }
            for i in 0..<rows {
              for t in 0..<count { store(sums[i * 4 + t], i0 + i, j + t) }
            }
          }
          j += count
        }
        return
      }
      for j in columns {
        let column = b + j * ldb
        if m == 1 {
          store(dot(rowsA, column, count: k), 0, j)
        } else {
          // Rows past m repeat the last one; their sums are dropped.
          let sums = dots(
            rowsA, rowsA + min(1, m - 1) * k, rowsA + min(2, m - 1) * k, rowsA + (m - 1) * k, column,
            count: k)
          for i in 0..<m { store(sums[i], i, j) }
        }
      }
    }
  } else {
    let blocks = (n + 15) / 16
    parallelChunks(blocks, threads: workers) { _, blockRange in
      for block in blockRange {
        let j0 = block * 16
        if j0 + 16 <= n {
          for i in 0..<m {
            let sums = rowTimesColumns(rowsA + i * k, b + j0, ldb: ldb, count: k)
            for t in 0..<16 { store(sums[t], i, j0 + t) }
          }
        } else {
          for i in 0..<m {
            for j in j0..<n {
              var sum: Float = 0
              for p in 0..<k { sum += rowsA[i * k + p] * b[p * ldb + j] }
              store(sum, i, j)
            }
          }
        }
      }
    }
  }
}

/// `out[i·4 + t] = ⟨A_i, b_t⟩` for the `m` rows of `a` (`k` floats each, contiguous) and
/// the `n` rows of `b` (`ldb` apart), with the C kernel for `kernel` (AVX-512 or AVX2).
@inline(__always)
private func dotBlock(
  _ kernel: GEMMKernel, k: Int, m: Int, _ a: UnsafePointer<Float>, _ n: Int, _ b: UnsafePointer<Float>, ldb: Int,
  _ out: UnsafeMutablePointer<Float>
) {
  #if arch(x86_64)
    if kernel == .avx512 {
      ccnn_sdot_block_avx512(k, m, a, k, n, b, ldb, out)
    } else {
      ccnn_sdot_block_avx2(k, m, a, k, n, b, ldb, out)
    }
  #else
    preconditionFailure("GEMM kernel \(kernel) needs x86_64")
  #endif
}

/// `⟨x, y⟩` over `count` floats: sixteen lanes of partial sums, then the lanes added.
@inline(__always)
private func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
  var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
  var p = 0
  while p + 32 <= count {
    acc0 += load(x + p) * load(y + p)
    acc1 += load(x + p + 16) * load(y + p + 16)
    p += 32
  }
  if p + 16 <= count {
    acc0 += load(x + p) * load(y + p)
    p += 16
  }
  var sum = (acc0 + acc1).sum()
  while p < count {
    sum += x[p] * y[p]
    p += 1
  }
  return sum
}

/// `(⟨x0, y⟩, ⟨x1, y⟩, ⟨x2, y⟩, ⟨x3, y⟩)`: four dot products sharing each load of `y`.
@inline(__always)
private func dots(
  _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ x2: UnsafePointer<Float>,
  _ x3: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int
) -> SIMD4<Float> {
  var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()
  var p = 0
  while p + 16 <= count {
    let value = load(y + p)
    acc0 += load(x0 + p) * value
    acc1 += load(x1 + p) * value
    acc2 += load(x2 + p) * value
    acc3 += load(x3 + p) * value
    p += 16
  }
  var sums = SIMD4<Float>(acc0.sum(), acc1.sum(), acc2.sum(), acc3.sum())
  while p < count {
    sums += SIMD4(x0[p], x1[p], x2[p], x3[p]) * y[p]
    p += 1
  }
  return sums
}

/// `Σ_p x[p] · B[p, 0 ..< 16]` for the 16 columns starting at `columns`, rows `ldb` apart.
@inline(__always)
private func rowTimesColumns(
  _ x: UnsafePointer<Float>, _ columns: UnsafePointer<Float>, ldb: Int, count: Int
) -> SIMD16<Float> {
  var sum = SIMD16<Float>()
  for p in 0..<count { sum += x[p] * load(columns + p * ldb) }
  return sum
}

@inline(__always)
private func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
