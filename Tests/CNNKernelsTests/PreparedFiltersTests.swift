import Testing

@testable @_spi(Testing) import CNNKernels

private typealias S = ConvTestSupport

/// Winograd filters kept across calls (`PreparedFilters`): a call with few tiles runs Winograd
/// from them, agrees with the naive convolution, reuses them, and transforms new ones once the
/// weights' version changes.
@Suite struct PreparedFiltersTests {
  /// One image, 24×24, 3×3 with padding 1: 144 tiles of 2×2, too few for Winograd without
  /// prepared filters; 36 tiles of 4×4, a strip of either micro-kernel.
  static let geometry = S.geometry(n: 1, c: 20, h: 24, w: 24, kh: 3, kw: 3, pad: (1, 1, 1, 1))
  static let outputs = 26

  func naive(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
    var y = [Float](repeating: .nan, count: Self.outputs * Self.geometry.outputPlaneSize)
    conv2DForwardNaive(input: x, weight: w, bias: b, output: &y, geometry: Self.geometry, outputChannels: Self.outputs)
    return y
  }

  func fast(_ x: [Float], _ w: [Float], _ b: [Float], prepared: PreparedFilters?, threads: Int) -> [Float] {
    var y = [Float](repeating: .nan, count: Self.outputs * Self.geometry.outputPlaneSize)
    conv2DForward(
      input: x, weight: w, bias: b, output: &y, geometry: Self.geometry, outputChannels: Self.outputs,
      threads: threads, prepared: prepared)
    return y
  }

  @Test func shapeRunsWinogradOnlyWithPreparedFilters() {
    let plan = ConvolutionPlan(Self.geometry, outputChannels: Self.outputs, groups: 1, caller: "test")
    #expect(!plan.usesWinograd)
    #expect(plan.suitsPreparedWinograd(columnsPerStrip: GEMMKernel.current.nr))
    // A 7² map at batch 1 has 4 tiles of 4×4: too few for any strip.
    let small = ConvolutionPlan(
      S.geometry(n: 1, c: 64, h: 7, w: 7, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 64, groups: 1,
      caller: "test")
    #expect(!small.suitsPreparedWinograd(columnsPerStrip: 16))
  }

  @Test(arguments: [1, 2, 3])
  func keepsFiltersWhileTheVersionStays(threads: Int) {
    var rng = S.Generator(seed: S.seed("prepared filters"))
    let g = Self.geometry
    let x = S.random(g.inputChannels * g.inputPlaneSize, using: &rng)
    let w = S.random(Self.outputs * g.inputChannels * 9, using: &rng)
    let b = S.random(Self.outputs, using: &rng)
    let prepared = PreparedFilters()
    prepared.update(version: 1)
    #expect(prepared.floatCount == 0)

    let first = fast(x, w, b, prepared: prepared, threads: threads)
    let held = prepared.floatCount
    // 36 positions × ⌈K/MR⌉·MR × C.
    let mr = GEMMKernel.current.mr
    #expect(held == 36 * ((Self.outputs + mr - 1) / mr * mr) * g.inputChannels)
    #expect(S.relativeError(first, naive(x, w, b)) < 2e-5)
    #expect(fast(x, w, b, prepared: prepared, threads: threads) == first)
    #expect(prepared.floatCount == held)

    // New weights under a new version: transformed again, not the old filters.
    let w2 = w.map { $0 * -0.5 + 0.25 }
    prepared.update(version: 2)
    #expect(prepared.floatCount == 0)
    #expect(S.relativeError(fast(x, w2, b, prepared: prepared, threads: threads), naive(x, w2, b)) < 2e-5)
    #expect(prepared.floatCount == held)

    prepared.removeAll()
    #expect(prepared.floatCount == 0)
  }
}

/// Filters packed as the GEMM's A and kept (`PreparedFilters.packedWeight`): calls of few
/// output positions that run as a GEMM give the bits they give without, and hold the packed
/// filters until the version changes.
@Suite struct PreparedPackedWeightTests {
  /// 1×1 on 14² (pointwise), 3×3 on 7² (im2col), 3×3 stride 2 (im2col), each at batch 1; and a
  /// batch of 2 on 7² (one GEMM over both images).
  static let cases: [ConvCase] = [
    ConvCase(geometry: S.geometry(n: 1, c: 40, h: 14, w: 14, kh: 1, kw: 1), outputChannels: 23),
    ConvCase(geometry: S.geometry(n: 1, c: 24, h: 7, w: 7, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 32),
    ConvCase(
      geometry: S.geometry(n: 1, c: 8, h: 15, w: 15, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)), outputChannels: 13,
      bias: false),
    ConvCase(geometry: S.geometry(n: 2, c: 24, h: 7, w: 7, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 32),
  ]

  @Test(arguments: cases)
  func matchesUnpreparedBitForBit(_ c: ConvCase) {
    let g = c.geometry
    let plan = ConvolutionPlan(g, outputChannels: c.outputChannels, groups: 1, caller: "test")
    #expect(plan.suitsPackedWeight)
    var rng = S.Generator(seed: S.seed("packed " + c.description))
    let x = S.random(g.batch * g.inputChannels * g.inputPlaneSize, using: &rng)
    let w = S.random(c.outputChannels * plan.window, using: &rng)
    let b = S.random(c.outputChannels, using: &rng)
    let prepared = PreparedFilters()
    prepared.update(version: 0)
    for threads in [1, 2, 3] {
      var plain = [Float](repeating: .nan, count: g.batch * c.outputChannels * g.outputPlaneSize)
      var kept = plain
      var naive = plain
      conv2DForward(
        input: x, weight: w, bias: c.bias ? b : nil, output: &plain, geometry: g, outputChannels: c.outputChannels,
        threads: threads)
      conv2DForward(
        input: x, weight: w, bias: c.bias ? b : nil, output: &kept, geometry: g, outputChannels: c.outputChannels,
        threads: threads, prepared: prepared)
      conv2DForwardNaive(
        input: x, weight: w, bias: c.bias ? b : nil, output: &naive, geometry: g, outputChannels: c.outputChannels)
      let differing = zip(kept, plain).filter { $0.0.bitPattern != $0.1.bitPattern }.count
      #expect(differing == 0, "\(threads) threads")
      #expect(S.relativeError(kept, naive) < 1e-5)
      let mr = GEMMKernel.current.mr
      #expect(prepared.floatCount == (c.outputChannels + mr - 1) / mr * mr * plan.window)
    }
    prepared.update(version: 1)
    #expect(prepared.floatCount == 0)
  }
}
