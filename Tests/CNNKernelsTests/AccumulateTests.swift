import Testing

@testable import CNNKernels

private typealias S = ConvTestSupport

/// `accumulate` against a plain loop: the same bits, at lengths around the 16-lane vectors and
/// above the size at which it splits over threads, and nothing written past `count`.
@Suite struct AccumulateTests {
  @Test(arguments: [0, 1, 15, 16, 17, 100, 300_007])
  func addsLikeAPlainLoop(_ count: Int) {
    var rng = S.Generator(seed: S.seed("accumulate \(count)"))
    let source = S.random(count + 5, using: &rng)
    let start = S.random(count + 5, using: &rng)
    var expected = start
    for i in 0..<count { expected[i] += source[i] }
    var target = start
    target.withUnsafeMutableBufferPointer { t in
      source.withUnsafeBufferPointer { accumulate($0.baseAddress!, into: t.baseAddress!, count: count) }
    }
    #expect(target == expected)
  }

  /// `addPartialSums` against adding the parts one after another in a plain loop: the same bits,
  /// with no parts, one, and three, below and above the size at which it splits over threads.
  @Test(arguments: [0, 1, 3])
  func partialSumsAddInOrder(_ partCount: Int) {
    for count in [5, 40_000] {
      var rng = S.Generator(seed: S.seed("partials \(partCount) \(count)"))
      let stride = count + 3
      let parts = S.random(max(1, partCount) * stride, using: &rng)
      let start = S.random(count, using: &rng)
      var expected = start
      for p in 0..<partCount {
        for i in 0..<count { expected[i] += parts[p * stride + i] }
      }
      var target = start
      target.withUnsafeMutableBufferPointer { t in
        parts.withUnsafeBufferPointer {
          addPartialSums(
            $0.baseAddress!, partStride: stride, partCount: partCount, into: t.baseAddress!, count: count, threads: 2)
        }
      }
      #expect(target == expected, "\(partCount) parts of \(count)")
    }
  }
}
