// GEMM: C = alpha · op(A) · op(B) + beta · C, row-major, with leading dimensions.
// gemmNaive is the reference; gemm is the fast, packed, cache-blocked, threaded version.
//
// (Stub: gemm currently forwards to gemmNaive. The fast version replaces the body.)

/// Supplies blocks of the right-hand matrix B (k × n) to `gemm`, packed into panels.
///
/// A plain strided matrix is one source (`StridedMatrix`); convolution supplies another that
/// unrolls input windows on the fly (implicit im2col), so the unrolled matrix never exists
/// in memory.
public protocol GEMMRightOperand {
  /// Rows of B (the reduction dimension k).
  var rows: Int { get }
  /// Columns of B (n).
  var columns: Int { get }
  /// Packs rows `k0 ..< k0 + kc` and columns `j0 ..< j0 + nc` of B into `panel`, as
  /// `ceil(nc / nr)` consecutive strips; strip `s` holds, for each row `r` in `0 ..< kc`,
  /// the `nr` values `B[k0 + r, j0 + s·nr + t]` for `t` in `0 ..< nr`, with zeros past `nc`.
  /// So `panel[(s·kc + r)·nr + t] = B[k0 + r, j0 + s·nr + t]`.
  func pack(into panel: UnsafeMutablePointer<Float>, k0: Int, kc: Int, j0: Int, nc: Int, nr: Int)
}

/// `B` stored as a row-major (or, with `transposed`, column-major) strided matrix.
public struct StridedMatrix: GEMMRightOperand {
  public let base: UnsafePointer<Float>
  public let rows: Int
  public let columns: Int
  public let leadingDimension: Int
  public let transposed: Bool

  /// B is `rows × columns`; element (i, j) is `base[i·ld + j]`, or `base[j·ld + i]` when
  /// `transposed` (then the stored matrix is `columns × rows`).
  public init(_ base: UnsafePointer<Float>, rows: Int, columns: Int, leadingDimension: Int, transposed: Bool = false) {
    self.base = base
    self.rows = rows
    self.columns = columns
    self.leadingDimension = leadingDimension
    self.transposed = transposed
  }

  @inlinable
  public func element(_ i: Int, _ j: Int) -> Float {
    transposed ? base[j * leadingDimension + i] : base[i * leadingDimension + j]
  }

  public func pack(into panel: UnsafeMutablePointer<Float>, k0: Int, kc: Int, j0: Int, nc: Int, nr: Int) {
    let strips = (nc + nr - 1) / nr
    for s in 0..<strips {
      for r in 0..<kc {
        for t in 0..<nr {
          let j = s * nr + t
          panel[(s * kc + r) * nr + t] = j < nc ? element(k0 + r, j0 + j) : 0
        }
      }
    }
  }
}

/// Reference GEMM: `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`, row-major.
///
/// `op(A)[i, p]` is `a[i·lda + p]`, or `a[p·lda + i]` when `transposeA`; likewise for B.
/// When `beta == 0`, C is overwritten without being read (NaNs in C do not propagate).
/// - Complexity: O(m · n · k), one multiply-add at a time. For tests only.
public func gemmNaive(
  transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
  for i in 0..<m {
    for j in 0..<n {
      var sum: Float = 0
      for p in 0..<k {
        let av = transposeA ? a[p * lda + i] : a[i * lda + p]
        let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
        sum += av * bv
      }
      c[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * c[i * ldc + j]
    }
  }
}

/// Fast GEMM: `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`, row-major.
///
/// Same contract as `gemmNaive`; splits the work over `threads` threads.
public func gemm(
  transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = ComputeThreads.count
) {
  gemm(
    transposeA: transposeA, m: m, alpha: alpha, a: a, lda: lda,
    b: StridedMatrix(b, rows: k, columns: n, leadingDimension: ldb, transposed: transposeB),
    beta: beta, c: c, ldc: ldc, threads: threads)
}

/// Fast GEMM with B supplied by a packing source (e.g. implicit im2col).
/// `k` and `n` are `b.rows` and `b.columns`.
public func gemm<B: GEMMRightOperand>(
  transposeA: Bool = false, m: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
  b: B, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = ComputeThreads.count
) {
  // STUB: pack all of B once, then naive multiply.
  let k = b.rows, n = b.columns
  let packed = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k * n))
  defer { packed.deallocate() }
  b.pack(into: packed, k0: 0, kc: k, j0: 0, nc: n, nr: 1)
  gemmNaive(transposeA: transposeA, transposeB: true, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: packed, ldb: max(1, k), beta: beta, c: c, ldc: ldc)
}
