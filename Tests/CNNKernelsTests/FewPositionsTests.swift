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

  /// The per-position weights packed straight from the weight (`PositionWeightsOperand`), as
  /// `W_p` and as `W_pᵀ`, against `W_p[k, c·t + j] = weight[k, c, taps_j]` read here: maps of one
  /// to four positions with partial and whole windows, blocks starting inside the matrix, and
  /// strips cut short by the block's last column (their missing columns zero).
  @Test func positionWeightsPackFromTheWeight() {
    let shapes = [
      S.geometry(n: 1, c: 6, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1)),  // four positions of four taps
      S.geometry(n: 1, c: 4, h: 1, w: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1)),  // the centre tap
      S.geometry(n: 1, c: 5, h: 4, w: 4, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)),  // 4, 6, 6 and 9 taps
    ]
    var rng = S.Generator(seed: 21)
    for g in shapes {
      let k = 19
      let plan = ConvolutionPlan(g, outputChannels: k, groups: 1, caller: "test")
      let weight = S.random(k * g.inputChannels * plan.kernelArea, using: &rng)
      for position in 0..<plan.outputPlane {
        let taps = plan.realTaps(at: position)
        let t = taps.count
        // W_p[k, c·t + j], read from the weight tap by tap.
        func element(_ filter: Int, _ r: Int) -> Float {
          weight[(filter * g.inputChannels + r / t) * plan.kernelArea + taps.weightOffsets[r % t]]
        }
        for transposed in [false, true] {
          weight.withUnsafeBufferPointer { w in
            let operand = PositionWeightsOperand(weight: w.baseAddress!, plan: plan, taps: taps, transposed: transposed)
            #expect(operand.rows == (transposed ? g.inputChannels * t : k))
            #expect(operand.columns == (transposed ? k : g.inputChannels * t))
            for (k0, j0, nr) in [(0, 0, 8), (1, 2, 16), (3, 1, 4)] {
              let kc = operand.rows - k0, nc = operand.columns - j0
              let strips = (nc + nr - 1) / nr
              var panel = [Float](repeating: .nan, count: strips * kc * nr)
              operand.pack(into: &panel, k0: k0, kc: kc, j0: j0, nc: nc, nr: nr)
              var wrong = 0
              for s in 0..<strips {
                for r in 0..<kc {
                  for col in 0..<nr {
                    let (i, j) = (k0 + r, j0 + s * nr + col)
                    let expected: Float = j >= operand.columns ? 0 : transposed ? element(j, i) : element(i, j)
                    if panel[(s * kc + r) * nr + col] != expected { wrong += 1 }
                  }
                }
              }
              #expect(wrong == 0, "\(g), position \(position), transposed \(transposed), k0 \(k0), j0 \(j0), NR \(nr)")
            }
          }
        }
      }
    }
  }
}
