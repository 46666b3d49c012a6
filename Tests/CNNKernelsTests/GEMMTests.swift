@testable @_spi(Testing) import CNNKernels
// gemm (packed, blocked, threaded) against gemmNaive, for every micro-kernel this CPU runs.
import Dispatch
import Testing

/// The kernels under test: the one `gemm` picked, the portable one, and any other this CPU
/// supports (AVX2 on an AVX-512 machine).
private let kernels = GEMMKernel.allCases.filter(\.isSupported)

/// One GEMM problem: sizes, transposes, scalars, padding of the leading dimensions, threads.
struct GEMMCase: CustomTestStringConvertible, Sendable {
  var m: Int, n: Int, k: Int
  var transposeA = false, transposeB = false
  var alpha: Float = 1, beta: Float = 0
  /// Extra floats per stored row beyond the logical width (so lda/ldb/ldc > row).
  var padding = 0
  var threads = 1

  var testDescription: String {
    "\(m)×\(n)×\(k) tA=\(transposeA) tB=\(transposeB) α=\(alpha) β=\(beta) pad=\(padding) threads=\(threads)"
  }
}

/// SplitMix64: a tiny deterministic generator for test data.
struct TestGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Random values in [-1, 1).
private func randomArray(_ count: Int, using rng: inout TestGenerator) -> [Float] {
  (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) }
}

/// Checks `result` against `reference` element by element, with the tolerance scaled by
/// the magnitude `bound` of the terms summed (`|alpha|·|A|·|B| + |beta|·|C|`) and by √k.
private func expectClose(
  _ result: [Float], _ reference: [Float], bound: [Float], m: Int, n: Int, k: Int, ldc: Int,
  _ label: String
) {
  let relative = 1e-4 * Float(max(1, k)).squareRoot()
  var worst: Float = 0
  var firstBad: (Int, Int)? = nil
  for i in 0..<m {
    for j in 0..<n {
      let index = i * ldc + j
      let error = abs(result[index] - reference[index])
      let tolerance = relative * bound[index] + 1e-6
      if !(error <= tolerance), firstBad == nil { firstBad = (i, j) }
      worst = max(worst, error / tolerance)
    }
  }
  #expect(
    firstBad == nil,
    "\(label): first mismatch at \(String(describing: firstBad)), worst error/tolerance \(worst)")
}

/// Runs `gemm` with `kernel` on random data for `problem` and compares with `gemmNaive`.
/// With beta == 0, C starts as NaN, so reading it would show. Padding columns of C must
/// come back untouched.
private func check(_ problem: GEMMCase, kernel: GEMMKernel, seed: UInt64 = 1) {
  let (m, n, k, pad) = (problem.m, problem.n, problem.k, problem.padding)
  var rng = TestGenerator(state: seed &+ UInt64(m * 1_000_003 + n * 1009 + k))
  let lda = (problem.transposeA ? m : k) + pad
  let ldb = (problem.transposeB ? k : n) + pad
  let ldc = n + pad
  let a = randomArray(max(1, (problem.transposeA ? k : m) * lda), using: &rng)
  let b = randomArray(max(1, (problem.transposeB ? n : k) * ldb), using: &rng)
  var c =
    problem.beta == 0
    ? [Float](repeating: .nan, count: max(1, m * ldc)) : randomArray(max(1, m * ldc), using: &rng)
  for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = 12345 } }
  var reference = c
  var bound = c.map(abs)

  gemmNaive(
    transposeA: problem.transposeA, transposeB: problem.transposeB, m: m, n: n, k: k,
    alpha: problem.alpha, a: a, lda: lda, b: b, ldb: ldb, beta: problem.beta, c: &reference,
    ldc: ldc)
  gemmNaive(
    transposeA: problem.transposeA, transposeB: problem.transposeB, m: m, n: n, k: k,
    alpha: abs(problem.alpha), a: a.map(abs), lda: lda, b: b.map(abs), ldb: ldb,
    beta: abs(problem.beta), c: &bound, ldc: ldc)
  a.withUnsafeBufferPointer { a in
    b.withUnsafeBufferPointer { b in
      c.withUnsafeMutableBufferPointer { c in
        guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else { return }
        gemm(
          kernel: kernel, transposeA: problem.transposeA, m: m, alpha: problem.alpha, a: a,
          lda: lda,
          b: StridedMatrix(
            b, rows: k, columns: n, leadingDimension: ldb, transposed: problem.transposeB),
          beta: problem.beta, c: c, ldc: ldc, threads: problem.threads)
      }
    }
  }
  let label = "\(kernel) \(problem.testDescription)"
  expectClose(c, reference, bound: bound, m: m, n: n, k: k, ldc: ldc, label)
  var paddingIntact = true
  for i in 0..<m { for j in n..<ldc where c[i * ldc + j] != 12345 { paddingIntact = false } }
  #expect(paddingIntact, "\(label): wrote past column n")
}

/// Sizes around the tile edges (MR = 14/6, NR = 32/16; the AVX-512 kernel's 4- and 8-row
/// partial panels, with 4, 5, 8 and 9 rows left), the blocks (MC = 168/144, KC = 384) and the
/// degenerate ones.
private let shapes: [(Int, Int, Int)] = [
  (0, 5, 3), (5, 0, 3), (1, 1, 1), (1, 7, 1), (7, 1, 9), (2, 3, 4), (13, 17, 19), (14, 32, 5),
  (15, 33, 7), (6, 16, 2), (29, 65, 31), (45, 3, 385), (170, 47, 20), (3, 131, 400),
  (4, 33, 6), (18, 31, 12), (19, 40, 3), (8, 40, 9), (22, 33, 10), (23, 17, 11),
]

@Suite("GEMM")
struct GEMMTests {
  @Test(
    "matches gemmNaive across shapes, transposes and padded leading dimensions",
    arguments: kernels)
  func shapesAndTransposes(kernel: GEMMKernel) {
    for (m, n, k) in shapes {
      for transposeA in [false, true] {
        for transposeB in [false, true] {
          check(
            GEMMCase(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, padding: 3),
            kernel: kernel)
        }
      }
    }
  }

  @Test(
    "alpha and beta: beta == 0 overwrites C without reading it (C starts as NaN)",
    arguments: kernels)
  func alphaBeta(kernel: GEMMKernel) {
    for (alpha, beta) in [(1, 0), (0.5, 0), (1, 1), (-1.5, 0.25), (2, -1)] as [(Float, Float)] {
      for (m, n, k) in [(9, 40, 17), (30, 576, 25), (37, 21, 400)] {
        check(GEMMCase(m: m, n: n, k: k, alpha: alpha, beta: beta, padding: 1), kernel: kernel)
        check(
          GEMMCase(m: m, n: n, k: k, transposeA: true, transposeB: true, alpha: alpha, beta: beta),
          kernel: kernel)
      }
    }
  }

  @Test("k == 0 scales C by beta (zeros it, NaNs included, when beta == 0)", arguments: kernels)
  func emptyReduction(kernel: GEMMKernel) {
    check(GEMMCase(m: 5, n: 7, k: 0, beta: 0, padding: 2), kernel: kernel)
    check(GEMMCase(m: 5, n: 7, k: 0, beta: 0.5, padding: 2), kernel: kernel)
  }

  @Test(
    "threads: the column split, the row split (n small) and an uneven split",
    arguments: kernels)
  func threaded(kernel: GEMMKernel) {
    for threads in [2, 3] {
      check(GEMMCase(m: 64, n: 300, k: 70, beta: 0.5, padding: 5, threads: threads), kernel: kernel)
      check(GEMMCase(m: 300, n: 17, k: 300, transposeA: true, threads: threads), kernel: kernel)
      check(
        GEMMCase(m: 200, n: 230, k: 100, transposeB: true, alpha: 0.5, beta: 1, threads: threads),
        kernel: kernel)
    }
  }

  @Test("block sizes follow the caches found, within bounds, in whole register tiles")
  func blockSizes() {
    for kernel in GEMMKernel.allCases {
      #expect(kernel.mc % kernel.mr == 0 && (4...64).contains(kernel.mc / kernel.mr), "\(kernel): MC \(kernel.mc)")
      #expect(kernel.nc % kernel.nr == 0 && (16 * kernel.nr...4096).contains(kernel.nc), "\(kernel): NC \(kernel.nc)")
      // A larger L2 never gives a smaller A block: a quarter of it holds MC × KC floats.
      if let l2 = CacheSizes.found.level2, GEMMBlocking.rows == nil, kernel.mc < 64 * kernel.mr {
        #expect(kernel.mc * kernel.kc * 4 <= max(l2 / 4, 4 * kernel.mr * kernel.kc * 4), "\(kernel): A block over L2 / 4")
        #expect((kernel.mc + kernel.mr) * kernel.kc * 4 > l2 / 4, "\(kernel): another row panel would fit")
      }
    }
  }

  @Test("the public gemm uses the detected kernel and matches gemmNaive")
  func publicEntryPoint() {
    #expect(GEMMKernel.current.isSupported)
    let (m, n, k) = (23, 45, 67)
    var rng = TestGenerator(state: 7)
    let a = randomArray(k * m, using: &rng)
    let b = randomArray(n * k, using: &rng)
    var c = randomArray(m * n, using: &rng)
    var reference = c
    gemmNaive(
      transposeA: true, transposeB: true, m: m, n: n, k: k, alpha: 0.75, a: a, lda: m, b: b, ldb: k,
      beta: 0.5, c: &reference, ldc: n)
    gemm(
      transposeA: true, transposeB: true, m: m, n: n, k: k, alpha: 0.75, a: a, lda: m, b: b, ldb: k,
      beta: 0.5, c: &c, ldc: n)
    let bound = [Float](repeating: Float(k), count: m * n)
    expectClose(c, reference, bound: bound, m: m, n: n, k: k, ldc: n, "public gemm")
  }

  @Test("StridedMatrix.pack follows the documented panel layout, zero-padded past nc")
  func stridedPack() {
    let (rows, columns) = (9, 11)
    let values = (0..<(rows * columns + 40)).map(Float.init)
    for transposed in [false, true] {
      let ld = (transposed ? rows : columns) + 2
      values.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        let b = StridedMatrix(
          base, rows: rows, columns: columns, leadingDimension: ld, transposed: transposed)
        let (k0, kc, j0, nc, nr) = (2, 5, 1, 9, 4)
        let strips = (nc + nr - 1) / nr
        var panel = [Float](repeating: -1, count: strips * kc * nr)
        panel.withUnsafeMutableBufferPointer { panel in
          guard let p = panel.baseAddress else { return }
          b.pack(into: p, k0: k0, kc: kc, j0: j0, nc: nc, nr: nr)
        }
        for s in 0..<strips {
          for r in 0..<kc {
            for t in 0..<nr {
              let j = s * nr + t
              let expected = j < nc ? b.element(k0 + r, j0 + j) : 0
              #expect(
                panel[(s * kc + r) * nr + t] == expected,
                "transposed=\(transposed) s=\(s) r=\(r) t=\(t)")
            }
          }
        }
      }
    }
  }

  @Test(
    "the generic gemm takes any GEMMRightOperand (here B[r, j] computed on the fly)",
    arguments: kernels)
  func customOperand(kernel: GEMMKernel) {
    /// B[r, j] = sin-free deterministic pattern, packed straight from the formula.
    struct FormulaOperand: GEMMRightOperand {
      let rows: Int
      let columns: Int
      func value(_ r: Int, _ j: Int) -> Float { Float((r * 7 + j * 3) % 11) / 11 - 0.5 }
      func pack(
        into panel: UnsafeMutablePointer<Float>, k0: Int, kc: Int, j0: Int, nc: Int, nr: Int
      ) {
        for s in 0..<((nc + nr - 1) / nr) {
          for r in 0..<kc {
            for t in 0..<nr {
              let j = s * nr + t
              panel[(s * kc + r) * nr + t] = j < nc ? value(k0 + r, j0 + j) : 0
            }
          }
        }
      }
    }
    for (m, n, k, threads) in [
      (5, 7, 3, 1), (40, 100, 450, 1), (200, 70, 50, 2), (16, 500, 300, 2),
    ] {
      let operand = FormulaOperand(rows: k, columns: n)
      var rng = TestGenerator(state: UInt64(m + n + k))
      let a = randomArray(m * k, using: &rng)
      let dense = (0..<(k * n)).map { operand.value($0 / n, $0 % n) }
      var reference = [Float](repeating: 0, count: m * n)
      var c = [Float](repeating: .nan, count: m * n)
      gemmNaive(m: m, n: n, k: k, alpha: 1.5, a: a, lda: k, b: dense, ldb: n, c: &reference, ldc: n)
      a.withUnsafeBufferPointer { a in
        c.withUnsafeMutableBufferPointer { c in
          guard let a = a.baseAddress, let c = c.baseAddress else { return }
          gemm(
            kernel: kernel, m: m, alpha: 1.5, a: a, lda: k, b: operand, c: c, ldc: n,
            threads: threads)
        }
      }
      let bound = [Float](repeating: 1.5 * Float(k), count: m * n)
      expectClose(
        c, reference, bound: bound, m: m, n: n, k: k, ldc: n, "\(kernel) formula \(m)×\(n)×\(k)")
    }
  }

  @Test("reentrant: concurrent single-threaded calls (as convolution makes per image) agree")
  func concurrentCalls() {
    let (m, n, k, calls) = (30, 576, 25, 8)
    var rng = TestGenerator(state: 99)
    let a = randomArray(m * k, using: &rng)
    let inputs = (0..<calls).map { _ in randomArray(k * n, using: &rng) }
    var references = [[Float]](repeating: [Float](repeating: 0, count: m * n), count: calls)
    for call in 0..<calls {
      gemmNaive(
        m: m, n: n, k: k, a: a, lda: k, b: inputs[call], ldb: n, c: &references[call], ldc: n)
    }
    let results = UnsafeMutablePointer<Float>.allocate(capacity: calls * m * n)
    defer { results.deallocate() }
    let resultsAddress = Int(bitPattern: results)
    a.withUnsafeBufferPointer { a in
      let aAddress = Int(bitPattern: a.baseAddress)
      DispatchQueue.concurrentPerform(iterations: calls) { call in
        guard let a = UnsafePointer<Float>(bitPattern: aAddress),
          let out = UnsafeMutablePointer<Float>(bitPattern: resultsAddress)
        else { return }
        inputs[call].withUnsafeBufferPointer { b in
          guard let b = b.baseAddress else { return }
          gemm(
            m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: out + call * m * n, ldc: n, threads: 1)
        }
      }
    }
    let bound = [Float](repeating: Float(k), count: m * n)
    for call in 0..<calls {
      let result = Array(UnsafeBufferPointer(start: results + call * m * n, count: m * n))
      expectClose(result, references[call], bound: bound, m: m, n: n, k: k, ldc: n, "call \(call)")
    }
  }
}
