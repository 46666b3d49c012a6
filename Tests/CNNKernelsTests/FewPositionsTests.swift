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
}
