@testable @_spi(Testing) import CNNKernels
import Testing

/// A packed beforehand (`PackedLeftOperand`, a layer's filters kept across inference calls)
/// gives the bits of `gemm` packing A itself: one depth block and several (k above KC), rows
/// not a multiple of MR, one thread and more (split by rows and by columns).
@Suite struct PackedLeftOperandTests {
  static let kernels = GEMMKernel.allCases.filter(\.isSupported)

  @Test(arguments: [(m: 64, n: 196, k: 256), (m: 37, n: 49, k: 1000), (m: 256, n: 20, k: 2304), (m: 5, n: 300, k: 9)])
  func matchesGEMMBitForBit(shape: (m: Int, n: Int, k: Int)) {
    let (m, n, k) = shape
    var rng = TestGenerator(state: UInt64(m * 1_000_003 + n * 1009 + k))
    let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
    let b = (0..<(k * n)).map { _ in Float.random(in: -1..<1, using: &rng) }
    let start = (0..<(m * n)).map { _ in Float.random(in: -1..<1, using: &rng) }
    for kernel in Self.kernels {
      let packed = PackedLeftOperand(a, lda: k, rows: m, depth: k, kernel: kernel)
      #expect(packed.floatCount == (m + kernel.mr - 1) / kernel.mr * kernel.mr * k)
      for threads in [1, 2, 3] {
        for beta: Float in [0, 1] {
          var expected = start
          var got = start
          b.withUnsafeBufferPointer { b in
            let operand = StridedMatrix(b.baseAddress!, rows: k, columns: n, leadingDimension: n)
            gemm(kernel: kernel, m: m, alpha: 0.5, a: a, lda: k, b: operand, beta: beta, c: &expected, ldc: n, threads: threads)
            gemm(packedA: packed, alpha: 0.5, b: operand, beta: beta, c: &got, ldc: n, threads: threads)
          }
          let differing = zip(got, expected).filter { $0.0.bitPattern != $0.1.bitPattern }.count
          #expect(differing == 0, "\(kernel), \(threads) threads, β = \(beta)")
        }
      }
    }
  }
}
