import Testing

@testable import CNNKernels

private typealias S = ConvTestSupport

/// The taps a convolution with few output positions keeps at each: those of the window inside
/// the image (Convolution+FewPositions.swift).
@Suite struct FewPositionsTests {
  func taps(_ g: ConvGeometry) -> [[[Int]]] {
    let plan = ConvolutionPlan(g, outputChannels: 1, groups: 1, caller: "test")
    #expect(plan.runsAtFewPositions)
    return (0..<plan.outputPlane).map { p in
      let taps = plan.realTaps(at: p)
      return zip(taps.weightOffsets, taps.inputOffsets).map { [$0 / g.kernelWidth, $0 % g.kernelWidth, $1] }
    }
  }

  @Test func realTapsAreTheWindowInsideTheImage() {
    // [kh, kw, offset in the image] per tap, per position.
    #expect(taps(S.geometry(n: 1, c: 1, h: 1, w: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1))) == [[[1, 1, 0]]])
    #expect(
      taps(S.geometry(n: 1, c: 1, h: 2, w: 2, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)))
        == [[[1, 1, 0], [1, 2, 1], [2, 1, 2], [2, 2, 3]]])
    #expect(
      taps(S.geometry(n: 1, c: 1, h: 2, w: 3, kh: 3, kw: 3, sh: 3, sw: 3, pad: (1, 0, 2, 0))) == [[[1, 2, 0], [2, 2, 3]]])
    #expect(taps(S.geometry(n: 1, c: 1, h: 1, w: 1, kh: 2, kw: 2, sh: 5, sw: 5, pad: (3, 0, 3, 0))) == [[]])
    // A 2×2 map padded by 1: four positions, each window holding the whole 2×2 image.
    #expect(
      taps(S.geometry(n: 1, c: 1, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1))) == [
        [[1, 1, 0], [1, 2, 1], [2, 1, 2], [2, 2, 3]], [[1, 0, 0], [1, 1, 1], [2, 0, 2], [2, 1, 3]],
        [[0, 1, 0], [0, 2, 1], [1, 1, 2], [1, 2, 3]], [[0, 0, 0], [0, 1, 1], [1, 0, 2], [1, 1, 3]],
      ])
    let plan = { (g: ConvGeometry, groups: Int) in ConvolutionPlan(g, outputChannels: 2, groups: groups, caller: "test") }
    #expect(!plan(S.geometry(n: 1, c: 2, h: 3, w: 3, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 1).runsAtFewPositions)
    #expect(!plan(S.geometry(n: 1, c: 2, h: 1, w: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 2).runsAtFewPositions)
    // Pointwise: one batch-wide GEMM over a 2×2 map (nothing to leave out); a 1×1 map is X_p.
    #expect(!plan(S.geometry(n: 1, c: 2, h: 2, w: 2, kh: 1, kw: 1), 1).runsAtFewPositions)
    #expect(plan(S.geometry(n: 1, c: 2, h: 1, w: 1, kh: 1, kw: 1), 1).runsAtFewPositions)
  }

  /// Weights gathered once (`GatheredPositionWeights`, as `Conv2D` keeps them from the forward
  /// pass for its pullback) give the bits of the per-call gathers, forward and backward, on
  /// maps of one to four positions with partial and whole windows mixed; shapes whose windows
  /// are all whole, or that do not run at few positions, have none to gather.
  @Test func gatheredWeightsGiveTheSameResults() throws {
    let shapes = [
      S.geometry(n: 5, c: 6, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1)),  // four positions of four taps
      S.geometry(n: 3, c: 4, h: 1, w: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1)),  // the centre tap
      S.geometry(n: 4, c: 5, h: 4, w: 4, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)),  // 4, 6, 6 and 9 taps
      S.geometry(n: 2, c: 3, h: 2, w: 3, kh: 3, kw: 3, sh: 3, sw: 3, pad: (1, 0, 2, 0)),
    ]
    var rng = S.Generator(seed: 21)
    for g in shapes {
      let k = 7
      let x = S.random(g.batch * g.inputChannels * g.inputHeight * g.inputWidth, using: &rng)
      let w = S.random(k * g.inputChannels * g.kernelHeight * g.kernelWidth, using: &rng)
      let b = S.random(k, using: &rng)
      let outputCount = g.batch * k * g.outputHeight * g.outputWidth
      let dy = S.random(outputCount, using: &rng)
      let gathered = try #require(GatheredPositionWeights(weight: w, geometry: g, outputChannels: k))
      var results: [[Float]] = []
      for reuse in [false, true] {
        var y = [Float](repeating: .nan, count: outputCount)
        conv2DForward(
          input: x, weight: w, bias: b, output: &y, geometry: g, outputChannels: k, threads: 2,
          positionWeights: reuse ? gathered : nil)
        var dx = [Float](repeating: .nan, count: x.count)
        var dw = [Float](repeating: 0, count: w.count)
        conv2DBackward(
          input: x, weight: w, dOutput: dy, dInput: &dx, dWeight: &dw, dBias: nil, geometry: g, outputChannels: k,
          threads: 2, positionWeights: reuse ? gathered : nil)
        results.append(y + dx + dw)
      }
      #expect(results[0] == results[1], "\(g)")
    }
    // Every window whole (a 3×3 map, no padding: one position), or too many positions: none.
    let whole = S.geometry(n: 1, c: 2, h: 3, w: 3, kh: 3, kw: 3)
    #expect(GatheredPositionWeights(weight: S.random(2 * 2 * 9, using: &rng), geometry: whole, outputChannels: 2) == nil)
    let large = S.geometry(n: 1, c: 2, h: 4, w: 4, kh: 3, kw: 3, pad: (1, 1, 1, 1))
    #expect(GatheredPositionWeights(weight: S.random(2 * 2 * 9, using: &rng), geometry: large, outputChannels: 2) == nil)
  }
}
