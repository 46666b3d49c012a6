import CCNNKernels
import Testing

@testable @_spi(Testing) import CNNKernels

private typealias S = ConvTestSupport

/// Winograd (Convolution+Winograd.swift) against the naive convolution: forward, dInput,
/// dWeight and dBias, for each algorithm, every micro-kernel the CPU runs and 1 to 3 threads.
@Suite struct WinogradTests {
  /// One shape under one algorithm.
  struct Case: CustomStringConvertible, Sendable {
    let conv: ConvCase
    let algorithm: WinogradAlgorithm
    var description: String { "\(algorithm) \(conv)" }
    /// The largest error relative to the largest value, about 5× what these cases give:
    /// F(2×2, 3×3) up to 2.2e-6, F(4×4, 3×3) and F(2×2, 5×5), whose 6×6 tiles' transforms
    /// scale values by up to 8 and 1/24, up to 8e-6.
    var tolerance: Float { algorithm == .f2x2k3x3 ? 1e-5 : 4e-5 }
  }

  /// Odd maps (partial tiles), valid and asymmetric padding, maps of 1, 2 and 3 tile rows,
  /// tile rows longer than 8 tiles and than a strip, channels not a multiple of MR or NR, and
  /// several filter panels; each 3×3 shape under both 3×3 algorithms.
  static let threeByThree: [ConvCase] = [
    ConvCase(geometry: S.geometry(n: 2, c: 16, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
    ConvCase(
      geometry: S.geometry(n: 3, c: 17, h: 7, w: 9, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 18, bias: false),
    ConvCase(geometry: S.geometry(n: 1, c: 20, h: 5, w: 6, kh: 3, kw: 3), outputChannels: 33),
    ConvCase(geometry: S.geometry(n: 5, c: 16, h: 3, w: 3, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
    ConvCase(geometry: S.geometry(n: 2, c: 24, h: 20, w: 75, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 40),
    ConvCase(geometry: S.geometry(n: 4, c: 16, h: 13, w: 13, kh: 3, kw: 3, pad: (0, 2, 2, 1)), outputChannels: 20),
    ConvCase(geometry: S.geometry(n: 2, c: 64, h: 16, w: 16, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 64),
  ]

  /// 5×5 shapes: `same` and valid padding, asymmetric padding up to 4, odd maps.
  static let fiveByFive: [ConvCase] = [
    ConvCase(geometry: S.geometry(n: 2, c: 16, h: 16, w: 16, kh: 5, kw: 5, pad: (2, 2, 2, 2)), outputChannels: 24),
    ConvCase(geometry: S.geometry(n: 3, c: 18, h: 9, w: 11, kh: 5, kw: 5), outputChannels: 17, bias: false),
    ConvCase(geometry: S.geometry(n: 2, c: 16, h: 7, w: 6, kh: 5, kw: 5, pad: (4, 0, 1, 3)), outputChannels: 16),
  ]

  static let cases: [Case] =
    threeByThree.flatMap { [Case(conv: $0, algorithm: .f2x2k3x3), Case(conv: $0, algorithm: .f4x4k3x3)] }
    + fiveByFive.map { Case(conv: $0, algorithm: .f2x2k5x5) }

  static let kernels = GEMMKernel.allCases.filter(\.isSupported)

  struct Data {
    let x, w, b, dy, dWeightStart, dBiasStart: [Float]
    init(_ c: ConvCase) {
      var rng = S.Generator(seed: S.seed("winograd " + c.description))
      let g = c.geometry
      x = S.random(g.batch * g.inputChannels * g.inputPlaneSize, using: &rng)
      w = S.random(c.outputChannels * g.inputChannels * g.kernelHeight * g.kernelWidth, using: &rng)
      b = S.random(c.outputChannels, using: &rng)
      dy = S.random(g.batch * c.outputChannels * g.outputPlaneSize, using: &rng)
      dWeightStart = S.random(w.count, using: &rng)
      dBiasStart = S.random(c.outputChannels, using: &rng)
    }
  }

  @Test(arguments: cases)
  func forwardMatchesNaive(_ test: Case) {
    let c = test.conv
    let g = c.geometry
    let data = Data(c)
    var naive = [Float](repeating: .nan, count: g.batch * c.outputChannels * g.outputPlaneSize)
    data.b.withUnsafeBufferPointer { bias in
      conv2DForwardNaive(
        input: data.x, weight: data.w, bias: c.bias ? bias.baseAddress : nil, output: &naive, geometry: g,
        outputChannels: c.outputChannels)
    }
    let shape = WinogradShape(g, outputChannels: c.outputChannels, algorithm: test.algorithm)
    for kernel in Self.kernels {
      let filters = WinogradFilters(
        weight: data.w, outputs: c.outputChannels, inputs: g.inputChannels, flipped: false, algorithm: test.algorithm,
        mr: kernel.mr, threads: 2)
      defer { filters.storage.deallocate() }
      for threads in [1, 2, 3] {
        var fast = [Float](repeating: .nan, count: naive.count)
        data.x.withUnsafeBufferPointer { x in
          data.b.withUnsafeBufferPointer { bias in
            winogradForward(
              shape: shape, filters: filters, bias: c.bias ? bias.baseAddress : nil, output: &fast, kernel: kernel,
              threads: threads
            ) { n, _ in x.baseAddress! + n * shape.imageSize }
          }
        }
        #expect(S.relativeError(fast, naive) < test.tolerance, "\(kernel), \(threads) threads")
      }
    }
  }

  @Test(arguments: cases)
  func backwardMatchesNaive(_ test: Case) {
    let c = test.conv
    let g = c.geometry
    let data = Data(c)
    let plan = ConvolutionPlan(g, outputChannels: c.outputChannels, groups: 1, caller: "test")
    var dxNaive = [Float](repeating: .nan, count: data.x.count)
    var dwNaive = data.dWeightStart
    var dbNaive = data.dBiasStart
    conv2DBackwardNaive(
      input: data.x, weight: data.w, dOutput: data.dy, dInput: &dxNaive, dWeight: &dwNaive, dBias: &dbNaive,
      geometry: g, outputChannels: c.outputChannels)
    let imageSize = c.outputChannels * g.outputPlaneSize
    for threads in [1, 2, 3] {
      var results: [[Float]] = []
      for _ in 0..<2 {
        var dx = [Float](repeating: .nan, count: data.x.count)
        var dw = data.dWeightStart
        var db = data.dBiasStart
        data.dy.withUnsafeBufferPointer { dy in
          db.withUnsafeMutableBufferPointer { dbp in
            // dY through the per-thread scratch, as the fused layer hands it over.
            conv2DBackwardWinograd(
              plan: plan, algorithm: test.algorithm, input: data.x, weight: data.w, dInput: &dx, dWeight: &dw,
              dBias: c.bias ? dbp.baseAddress : nil, threads: threads, imageScratchCount: imageSize
            ) { n, scratch in
              scratch.update(from: dy.baseAddress! + n * imageSize, count: imageSize)
              return UnsafePointer(scratch)
            }
          }
        }
        #expect(S.relativeError(dx, dxNaive) < test.tolerance, "dInput, \(threads) threads")
        #expect(S.relativeError(dw, dwNaive) < test.tolerance, "dWeight, \(threads) threads")
        #expect(c.bias ? S.relativeError(db, dbNaive) < test.tolerance : db == data.dBiasStart, "dBias, \(threads) threads")
        results.append(dx + dw + db)
      }
      #expect(results[0] == results[1], "same thread count, same bits")
    }
  }

  /// The weight gradient with each micro-kernel (the forward test covers dInput's GEMMs).
  @Test(arguments: [cases[2], cases[9], cases.last!])
  func weightGradientWithEveryKernel(_ test: Case) {
    let c = test.conv
    let g = c.geometry
    let data = Data(c)
    var dwNaive = data.dWeightStart
    conv2DBackwardNaive(
      input: data.x, weight: data.w, dOutput: data.dy, dInput: nil, dWeight: &dwNaive, dBias: nil,
      geometry: g, outputChannels: c.outputChannels)
    let shape = WinogradShape(g, outputChannels: c.outputChannels, algorithm: test.algorithm)
    let imageSize = c.outputChannels * g.outputPlaneSize
    for kernel in Self.kernels {
      var dw = data.dWeightStart
      data.dy.withUnsafeBufferPointer { dy in
        winogradWeightGradient(
          shape: shape, input: data.x, dWeight: &dw, dBias: nil, kernel: kernel, threads: 2, imageScratchCount: 0
        ) { n, _ in dy.baseAddress! + n * imageSize }
      }
      #expect(S.relativeError(dw, dwNaive) < test.tolerance, "\(kernel)")
    }
  }

  /// The public entry points take Winograd for the shapes that suit it, and give the naive
  /// results through it.
  @Test func publicPassesUseWinograd() {
    let c = Self.threeByThree[1]
    let g = c.geometry
    let data = Data(c)
    var naive = [Float](repeating: .nan, count: g.batch * c.outputChannels * g.outputPlaneSize)
    conv2DForwardNaive(input: data.x, weight: data.w, bias: nil, output: &naive, geometry: g, outputChannels: 18)
    var fast = [Float](repeating: .nan, count: naive.count)
    conv2DForward(input: data.x, weight: data.w, bias: nil, output: &fast, geometry: g, outputChannels: 18, threads: 2)
    #expect(S.relativeError(fast, naive) < 4e-5)
    var dxNaive = [Float](repeating: .nan, count: data.x.count)
    var dwNaive = [Float](repeating: 0, count: data.w.count)
    conv2DBackwardNaive(
      input: data.x, weight: data.w, dOutput: data.dy, dInput: &dxNaive, dWeight: &dwNaive, dBias: nil, geometry: g,
      outputChannels: 18)
    var dx = [Float](repeating: .nan, count: data.x.count)
    var dw = [Float](repeating: 0, count: data.w.count)
    conv2DBackward(
      input: data.x, weight: data.w, dOutput: data.dy, dInput: &dx, dWeight: &dw, dBias: nil, geometry: g,
      outputChannels: 18, threads: 2)
    #expect(S.relativeError(dx, dxNaive) < 4e-5)
    #expect(S.relativeError(dw, dwNaive) < 4e-5)
  }

  /// Which shapes take which algorithm: 3×3 or 5×5, stride 1, one group, ≥ 16 channels in and
  /// out, more than four output positions; F(4×4, 3×3) from 4×4 maps on.
  @Test func choice() {
    func choice(_ g: ConvGeometry, _ k: Int, groups: Int = 1) -> WinogradAlgorithm? {
      ConvolutionPlan(g, outputChannels: k, groups: groups, caller: "test").preferredWinograd
    }
    let resnet = S.geometry(n: 8, c: 64, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1))
    #expect(choice(resnet, 64) == .f4x4k3x3)
    #expect(choice(resnet, 64, groups: 2) == nil)
    #expect(choice(resnet, 8) == nil)
    #expect(choice(S.geometry(n: 8, c: 8, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 64) == nil)
    #expect(choice(S.geometry(n: 8, c: 64, h: 8, w: 8, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)), 64) == nil)
    #expect(choice(S.geometry(n: 8, c: 64, h: 8, w: 8, kh: 5, kw: 5, pad: (2, 2, 2, 2)), 64) == .f2x2k5x5)
    #expect(choice(S.geometry(n: 8, c: 64, h: 8, w: 8, kh: 7, kw: 7, pad: (3, 3, 3, 3)), 64) == nil)
    #expect(choice(S.geometry(n: 8, c: 64, h: 8, w: 8, kh: 3, kw: 5, pad: (1, 1, 2, 2)), 64) == nil)
    #expect(choice(S.geometry(n: 8, c: 64, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 64) == nil)  // four positions
    #expect(choice(S.geometry(n: 8, c: 64, h: 3, w: 3, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 64) == .f2x2k3x3)
  }

  /// The filter transform and its gradient are adjoint, ⟨G g Gᵀ, du⟩ = ⟨g, Gᵀ du G⟩, for
  /// every algorithm; and F(2×2, 3×3)'s transform of a centre tap is G's middle column's outer
  /// product, worked out by hand.
  @Test(arguments: WinogradAlgorithm.allCases)
  func filterGradientIsTheTransformsAdjoint(_ algorithm: WinogradAlgorithm) {
    let (taps, positions) = (algorithm.r * algorithm.r, algorithm.positions)
    var u = [Float](repeating: 0, count: positions)
    if algorithm == .f2x2k3x3 {
      ccnn_winograd_filters(algorithm.code, [0, 0, 0, 0, 2, 0, 0, 0, 0], 1, 1, 0, 1, 0, 1, &u)
      #expect(u == [0, 0, 0, 0, 0, 0.5, -0.5, 0, 0, -0.5, 0.5, 0, 0, 0, 0, 0])
    }
    var rng = S.Generator(seed: 5)
    for _ in 0..<20 {
      let g = S.random(taps, using: &rng)
      let du = S.random(positions, using: &rng)
      ccnn_winograd_filters(algorithm.code, g, 1, 1, 0, 1, 0, 1, &u)
      var dg = [Float](repeating: 0, count: taps)
      ccnn_winograd_filter_gradients(algorithm.code, du, 1, 0, 1, &dg)
      var left: Float = 0, right: Float = 0
      for i in 0..<positions { left += u[i] * du[i] }
      for i in 0..<taps { right += g[i] * dg[i] }
      #expect(abs(left - right) < 1e-5 * max(1, abs(left)))
    }
  }
}
