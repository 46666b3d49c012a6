// GEMM: C = alpha · op(A) · op(B) + beta · C, row-major, with leading dimensions.
// gemmNaive is the reference; gemm is the fast, packed, cache-blocked, threaded version.
//
// Where the pieces live:
//   GEMM.swift               the API: GEMMRightOperand, StridedMatrix, gemmNaive, gemm
//   GEMM+Blocking.swift      the loop nest (MC/KC/NC blocks) and the thread split
//   GEMM+Packing.swift       packing A and StridedMatrix B into micro-panels
//   GEMM+FewRows.swift       1 to 4 rows of C, computed from B in place (no packing)
//   GEMMKernel.swift         kernel choice (CPUID) and block sizes
//   GEMM+PortableKernel.swift  the Swift SIMD micro-kernel
//   CCNNKernels/*.c          the AVX-512 and AVX2 micro-kernels

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
  /// The first element, `B[0, 0]`.
  public let base: UnsafePointer<Float>
  /// Rows of B (k).
  public let rows: Int
  /// Columns of B (n).
  public let columns: Int
  /// Floats between consecutive stored rows (`≥ columns`, or `≥ rows` when transposed).
  public let leadingDimension: Int
  /// Whether B is stored transposed (column-major): `B[i, j] = base[j·ld + i]`.
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

  /// `B[i, j]`.
  @inlinable
  public func element(_ i: Int, _ j: Int) -> Float {
    transposed ? base[j * leadingDimension + i] : base[i * leadingDimension + j]
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
/// Same contract as `gemmNaive` (beta == 0 overwrites C without reading it). Packs A and B
/// into cache-sized blocks and runs a SIMD micro-kernel chosen by CPUID (see `GEMMKernel`),
/// splitting C over `threads` threads; with 1 to 4 rows of C (up to 32 when B is stored
/// transposed) it reads B in place instead (`gemmFewRows`). Reentrant: concurrent calls share no state, so
/// callers that parallelize themselves pass `threads: 1`.
/// - Complexity: O(m · n · k).
public func gemm(
  transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = ComputeThreads.count
) {
  if runsAsFewRows(m: m, transposeB: transposeB) && n > 0 && k > 0 {
    gemmFewRows(
      transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads)
    return
  }
  gemm(
    transposeA: transposeA, m: m, alpha: alpha, a: a, lda: lda,
    b: StridedMatrix(b, rows: k, columns: n, leadingDimension: ldb, transposed: transposeB),
    beta: beta, c: c, ldc: ldc, threads: threads)
}

/// Fast GEMM with B supplied by a packing source (e.g. implicit im2col):
/// `C[m×n] = alpha · op(A)[m×k] · B[k×n] + beta · C`, where `k = b.rows`, `n = b.columns`.
///
/// This is the engine behind the strided `gemm`. `b.pack` is called for blocks of at most
/// KC rows and NC columns (see `GEMMKernel`), possibly from several threads at once, each
/// for its own columns; with few rows of A it is called for a few `nr`-strips at a time.
public func gemm<B: GEMMRightOperand>(
  transposeA: Bool = false, m: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
  b: B, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = ComputeThreads.count
) {
  gemm(
    kernel: .current, transposeA: transposeA, m: m, alpha: alpha, a: a, lda: lda, b: b,
    beta: beta, c: c, ldc: ldc, threads: threads)
}
