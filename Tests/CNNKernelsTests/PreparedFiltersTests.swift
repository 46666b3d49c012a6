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
