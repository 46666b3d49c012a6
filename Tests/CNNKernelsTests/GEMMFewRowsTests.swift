// gemm with 1 to 4 rows of C (computed from B in place) against gemmNaive.
@testable import CNNKernels
import Testing

@Suite("GEMM, few rows")
struct GEMMFewRowsTests {
  /// Sizes around the 8- and 16-float steps of the dot products, the groups of 4 rows of B
  /// (n = 5, 6: a last group of 1 or 2) and the 16-column blocks,
  /// and one large enough to be split over threads (2·m·n·k ≥ 2²¹ for every m).
  static let sizes: [(n: Int, k: Int)] = [(1, 1), (5, 3), (6, 19), (16, 16), (17, 33), (40, 47), (33, 100), (1030, 1030)]

  @Test(
    "matches gemmNaive for m = 1…4, every transpose, alpha and beta, padded strides, every kernel",
    arguments: 1...4, GEMMKernel.allCases.filter(\.isSupported))
  func matchesNaive(m: Int, kernel: GEMMKernel) {
    var rng = TestGenerator(state: UInt64(m))
    for (n, k) in Self.sizes {
      for transposeA in [false, true] {
        for transposeB in [false, true] {
          for (alpha, beta) in [(1, 0), (-0.5, 1), (2, 0.25)] as [(Float, Float)] {
            // The large size once per layout of B, on 2 threads, with the kernel gemm uses, to
            // keep the naive reference quick.
            if n > 1000 && (alpha != 2 || transposeA || kernel != .current) { continue }
            for threads in n > 1000 ? [2] : [1, 2] {
              let pad = 3
              let lda = (transposeA ? m : k) + pad
              let ldb = (transposeB ? k : n) + pad
              let ldc = n + pad
              let a = (0..<((transposeA ? k : m) * lda)).map { _ in Float.random(in: -1..<1, using: &rng) }
              let b = (0..<((transposeB ? n : k) * ldb)).map { _ in Float.random(in: -1..<1, using: &rng) }
              // With beta == 0, C starts as NaN: reading it would show.
              var c = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : Float.random(in: -1..<1, using: &rng) }
              for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = 12345 } }
              var reference = c
              gemmNaive(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                b: b, ldb: ldb, beta: beta, c: &reference, ldc: ldc)
              a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                  c.withUnsafeMutableBufferPointer { c in
                    gemmFewRows(
                      kernel: kernel, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc,
                      threads: threads)
                  }
                }
              }
              // Terms are at most 1 in size: sums of k of them are off by a few ulps of k.
              let tolerance = 1e-5 * Float(k) + 1e-6
              let worst = zip(c, reference).map { abs($0 - $1) }.max() ?? 0
              #expect(
                worst <= tolerance,
                "\(kernel) m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB) α \(alpha) β \(beta) threads \(threads): \(worst)")
            }
          }
        }
      }
    }
  }

  /// With B stored transposed (a dense layer's weight) and a C kernel, up to 32 rows: groups of
  /// 4 rows of A against each group of 4 rows of B, the last groups partial.
  @Test(
    "up to 32 rows with B stored transposed match gemmNaive",
    arguments: GEMMKernel.allCases.filter { $0.isSupported && $0 != .portable })
  func transposedUpTo32Rows(kernel: GEMMKernel) {
    var rng = TestGenerator(state: 5)
    for (m, n, k) in [(5, 7, 33), (7, 18, 100), (16, 9, 17), (32, 70, 300)] {
      for (transposeA, beta) in [(false, 0), (true, 0.5)] as [(Bool, Float)] {
        #expect(runsAsFewRows(m: m, transposeB: true, kernel: kernel))
        let lda = transposeA ? m : k
        let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
        let b = (0..<(n * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
        var c = (0..<(m * n)).map { _ in beta == 0 ? Float.nan : Float.random(in: -1..<1, using: &rng) }
        var reference = c
        gemmNaive(
          transposeA: transposeA, transposeB: true, m: m, n: n, k: k, alpha: 1.5, a: a, lda: lda, b: b, ldb: k,
          beta: beta, c: &reference, ldc: n)
        a.withUnsafeBufferPointer { a in
          b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
              gemmFewRows(
                kernel: kernel, transposeA: transposeA, transposeB: true, m: m, n: n, k: k, alpha: 1.5,
                a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: k, beta: beta, c: c.baseAddress!, ldc: n, threads: 2)
            }
          }
        }
        let worst = zip(c, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 2e-5 * Float(k), "\(kernel) m \(m) n \(n) k \(k) tA \(transposeA): \(worst)")
      }
    }
    // Not for B stored row-major, nor past 32 rows.
    #expect(!runsAsFewRows(m: 5, transposeB: false, kernel: kernel))
    #expect(!runsAsFewRows(m: 33, transposeB: true, kernel: kernel))
  }

  /// Through the public `gemm`, which sends 1–4 rows here.
  @Test("the result does not depend on the thread count")
  func sameForAnyThreadCount() {
    var rng = TestGenerator(state: 9)
    let (m, n, k) = (3, 700, 1500)
    let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
    let b = (0..<(n * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
    var results: [[Float]] = []
    for threads in [1, 2, 3] {
      var c = [Float](repeating: 0, count: m * n)
      gemm(transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &c, ldc: n, threads: threads)
      results.append(c)
    }
    #expect(results[0] == results[1] && results[0] == results[2])
  }
}
