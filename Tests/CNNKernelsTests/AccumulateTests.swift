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
}
