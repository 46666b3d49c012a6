import CCNNKernels
import Testing

@testable @_spi(Testing) import CNNKernels

private typealias S = ConvTestSupport

/// Winograd F(2×2, 3×3), F(4×4, 3×3) and F(2×2, 5×5) (Convolution+Winograd.swift) against the
/// naive convolution: forward, dInput, dWeight and dBias, for every micro-kernel the CPU runs
/// and 1 to 3 threads.
@Suite struct WinogradTests {
  /// Odd maps (partial tiles), valid and asymmetric padding, maps of 1, 2 and 3 tile rows,
  /// tile rows longer than 8 tiles, than a strip and than the output transforms' 256-tile
  /// chunks (an odd 521-wide map), rows of 2 to 7 tiles (loaded whole with AVX-512; rows of 3 or
  /// fewer two tile rows at a time, with an odd number of tile rows), channels not a multiple of
  /// MR or NR, and several filter panels; then the same for 5×5 filters, with the seeds'
  /// MNIST and CIFAR-10 networks' second layers (14² and 16² maps, "same" padding); then two
  /// more 3×3 maps of four tiles a row, and 4×4 maps.
  static let cases: [ConvCase] = [
    ConvCase(geometry: S.geometry(n: 2, c: 16, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
    ConvCase(
      geometry: S.geometry(n: 3, c: 17, h: 7, w: 9, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 18, bias: false),
    ConvCase(geometry: S.geometry(n: 1, c: 20, h: 5, w: 6, kh: 3, kw: 3), outputChannels: 33),
    ConvCase(geometry: S.geometry(n: 5, c: 16, h: 3, w: 3, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
    ConvCase(geometry: S.geometry(n: 2, c: 24, h: 20, w: 75, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 40),
    ConvCase(geometry: S.geometry(n: 4, c: 16, h: 13, w: 13, kh: 3, kw: 3, pad: (0, 2, 2, 1)), outputChannels: 20),
    ConvCase(geometry: S.geometry(n: 2, c: 64, h: 16, w: 16, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 64),
    ConvCase(geometry: S.geometry(n: 1, c: 16, h: 5, w: 521, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 17),
    ConvCase(geometry: S.geometry(n: 3, c: 16, h: 5, w: 5, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
    ConvCase(geometry: S.geometry(n: 2, c: 32, h: 14, w: 14, kh: 5, kw: 5, pad: (2, 2, 2, 2)), outputChannels: 64),
    ConvCase(
      geometry: S.geometry(n: 3, c: 17, h: 9, w: 11, kh: 5, kw: 5, pad: (2, 2, 2, 2)), outputChannels: 18, bias: false),
    ConvCase(geometry: S.geometry(n: 1, c: 20, h: 8, w: 9, kh: 5, kw: 5), outputChannels: 33),
    ConvCase(geometry: S.geometry(n: 2, c: 16, h: 16, w: 16, kh: 5, kw: 5, pad: (2, 2, 2, 2)), outputChannels: 24),
    ConvCase(geometry: S.geometry(n: 4, c: 16, h: 13, w: 12, kh: 5, kw: 5, pad: (0, 4, 3, 1)), outputChannels: 20),
    ConvCase(geometry: S.geometry(n: 1, c: 16, h: 5, w: 521, kh: 5, kw: 5, pad: (2, 2, 2, 2)), outputChannels: 17),
    ConvCase(geometry: S.geometry(n: 5, c: 16, h: 3, w: 3, kh: 5, kw: 5, pad: (2, 2, 2, 2)), outputChannels: 16),
    // Rows of four tiles (transformed four tile rows at a time with AVX-512), 3 and 7 tile rows.
    ConvCase(geometry: S.geometry(n: 3, c: 16, h: 5, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
    ConvCase(
      geometry: S.geometry(n: 2, c: 19, h: 13, w: 7, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 21, bias: false),
    // 4×4 and 8×8 maps, which F(4×4, 3×3) transforms 16 images at a time: more images than a
    // vector holds and not a multiple of 16, more than one block of them, and one image.
    ConvCase(geometry: S.geometry(n: 37, c: 20, h: 4, w: 4, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 18),
    ConvCase(
      geometry: S.geometry(n: 21, c: 17, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 20, bias: false),
    ConvCase(
      geometry: S.geometry(n: 1, c: 16, h: 4, w: 4, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 33, bias: false),
  ]

  /// Every case with 2×2 output tiles, and the 3×3 ones with 4×4 tiles too.
  static let runs: [WinogradCase] =
    cases.map { WinogradCase(conv: $0, outputTileSize: 2) }
    + cases.filter { $0.geometry.kernelHeight == 3 }.map { WinogradCase(conv: $0, outputTileSize: 4) }

  struct WinogradCase: CustomStringConvertible, Sendable {
    let conv: ConvCase
    let outputTileSize: Int
    var description: String { "\(conv), \(outputTileSize)×\(outputTileSize) tiles" }
    var algorithm: WinogradAlgorithm {
      WinogradAlgorithm(outputTileSize: outputTileSize, kernelSize: conv.geometry.kernelHeight)
    }
    var plan: ConvolutionPlan {
      var plan = ConvolutionPlan(conv.geometry, outputChannels: conv.outputChannels, groups: 1, caller: "test")
      plan.winogradOutputTileSize = outputTileSize
      plan.winogradBackwardOutputTileSize = outputTileSize
      return plan
    }
  }

  static let kernels = GEMMKernel.allCases.filter(\.isSupported)

  /// The largest relative error allowed against the naive convolution. The 6×6 tiles'
  /// transforms scale by up to 16 and 1/24, so their sums lose more: over these cases the worst
  /// was 2.1e-6 for F(2×2, 3×3) (dWeight), 1.1e-5 for F(2×2, 5×5) (dWeight; 3.6e-6 forward,
  /// 3.2e-6 dInput) and 7.5e-6 for F(4×4, 3×3) (dWeight; 7.4e-6 forward, 6.4e-6 dInput).
  static func tolerance(_ c: WinogradCase) -> Float { c.algorithm.tileSize == 6 ? 5e-5 : 2e-5 }

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

  @Test(arguments: runs)
  func forwardMatchesNaive(_ run: WinogradCase) {
    let c = run.conv
    let g = c.geometry
    let data = Data(c)
    var naive = [Float](repeating: .nan, count: g.batch * c.outputChannels * g.outputPlaneSize)
    data.b.withUnsafeBufferPointer { bias in
      conv2DForwardNaive(
        input: data.x, weight: data.w, bias: c.bias ? bias.baseAddress : nil, output: &naive, geometry: g,
        outputChannels: c.outputChannels)
    }
    let shape = run.plan.winogradShape
    for kernel in Self.kernels {
      let filters = WinogradFilters(
        weight: data.w, algorithm: run.algorithm, outputs: c.outputChannels, inputs: g.inputChannels,
        flipped: false, mr: kernel.mr, threads: 2)
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
        // Tolerance: sums of C·r² products, through transforms that add up to r² of them first
        // (and for 5×5, scale by up to 16 and 1/24).
        #expect(S.relativeError(fast, naive) < Self.tolerance(run), "\(kernel), \(threads) threads")
      }
    }
  }

  @Test(arguments: runs)
  func backwardMatchesNaive(_ run: WinogradCase) {
    let c = run.conv
    let g = c.geometry
    let data = Data(c)
    let plan = run.plan
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
              plan: plan, input: data.x, weight: data.w, dInput: &dx, dWeight: &dw,
              dBias: c.bias ? dbp.baseAddress : nil, threads: threads, imageScratchCount: imageSize
            ) { n, scratch in
              scratch.update(from: dy.baseAddress! + n * imageSize, count: imageSize)
              return UnsafePointer(scratch)
            }
          }
        }
        // Tolerance: sums of up to N·OH·OW products in a different order, through transforms.
        #expect(S.relativeError(dx, dxNaive) < Self.tolerance(run), "dInput, \(threads) threads")
        #expect(S.relativeError(dw, dwNaive) < Self.tolerance(run), "dWeight, \(threads) threads")
        #expect(c.bias ? S.relativeError(db, dbNaive) < 2e-5 : db == data.dBiasStart, "dBias, \(threads) threads")
        results.append(dx + dw + db)
      }
      #expect(results[0] == results[1], "same thread count, same bits")
    }
  }

  /// The weight gradient with each micro-kernel (the forward test covers dInput's GEMMs).
  @Test(arguments: [runs[1], runs[4], runs[10], runs[13], runs[cases.count + 1], runs[cases.count + 4], runs.last!])
  func weightGradientWithEveryKernel(_ run: WinogradCase) {
    let c = run.conv
    let g = c.geometry
    let data = Data(c)
    var dwNaive = data.dWeightStart
    conv2DBackwardNaive(
      input: data.x, weight: data.w, dOutput: data.dy, dInput: nil, dWeight: &dwNaive, dBias: nil,
      geometry: g, outputChannels: c.outputChannels)
    let shape = run.plan.winogradShape
    let imageSize = c.outputChannels * g.outputPlaneSize
    for kernel in Self.kernels {
      var dw = data.dWeightStart
      data.dy.withUnsafeBufferPointer { dy in
        winogradWeightGradient(
          shape: shape, input: data.x, dWeight: &dw, dBias: nil, kernel: kernel, threads: 2, imageScratchCount: 0
        ) { n, _ in dy.baseAddress! + n * imageSize }
      }
      #expect(S.relativeError(dw, dwNaive) < Self.tolerance(run), "\(kernel)")
    }
  }

  /// The public entry points take Winograd for the shapes that suit it, and give the naive
  /// results through it.
  @Test func publicPassesUseWinograd() {
    let c = ConvCase(
      geometry: S.geometry(n: 4, c: 16, h: 16, w: 15, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 18, bias: false)
    let g = c.geometry
    #expect(ConvolutionPlan(g, outputChannels: 18, groups: 1, caller: "test").usesWinograd)
    let data = Data(c)
    var naive = [Float](repeating: .nan, count: g.batch * c.outputChannels * g.outputPlaneSize)
    conv2DForwardNaive(input: data.x, weight: data.w, bias: nil, output: &naive, geometry: g, outputChannels: 18)
    var fast = [Float](repeating: .nan, count: naive.count)
    conv2DForward(input: data.x, weight: data.w, bias: nil, output: &fast, geometry: g, outputChannels: 18, threads: 2)
    #expect(S.relativeError(fast, naive) < 1e-5)
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
    #expect(S.relativeError(dx, dxNaive) < 1e-5)
    #expect(S.relativeError(dw, dwNaive) < 1e-5)
  }

  /// Which shapes take Winograd: 3×3 or 5×5, stride 1, padding below the filter size, one group,
  /// ≥ 16 channels in and out, more than four output positions, at least 256 tiles in the batch.
  @Test func choice() {
    func suits(_ g: ConvGeometry, _ k: Int, groups: Int = 1) -> Bool {
      ConvolutionPlan(g, outputChannels: k, groups: groups, caller: "test").suitsWinograd
    }
    let resnet = S.geometry(n: 16, c: 64, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1))  // 16 · 16 tiles
    #expect(suits(resnet, 64))
    #expect(!suits(resnet, 64, groups: 2))
    #expect(!suits(resnet, 8))
    var fewer = resnet
    fewer.batch = 15  // 240 tiles
    #expect(!suits(fewer, 64))
    #expect(!suits(S.geometry(n: 16, c: 8, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 64))
    #expect(!suits(S.geometry(n: 64, c: 64, h: 8, w: 8, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)), 64))
    #expect(suits(S.geometry(n: 16, c: 64, h: 8, w: 8, kh: 5, kw: 5, pad: (2, 2, 2, 2)), 64))
    #expect(!suits(S.geometry(n: 16, c: 64, h: 8, w: 8, kh: 5, kw: 3, pad: (2, 2, 1, 1)), 64))
    #expect(!suits(S.geometry(n: 16, c: 64, h: 8, w: 8, kh: 7, kw: 7, pad: (3, 3, 3, 3)), 64))
    #expect(!suits(S.geometry(n: 16, c: 64, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 3, 1)), 64))
    #expect(!suits(S.geometry(n: 16, c: 64, h: 8, w: 8, kh: 5, kw: 5, pad: (5, 2, 2, 2)), 64))
    #expect(!suits(S.geometry(n: 256, c: 64, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 64))  // four positions
    #expect(suits(S.geometry(n: 64, c: 64, h: 3, w: 3, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 64))
    // 4×4 tiles forward for 3×3 filters, and backward on maps up to 16 wide; 2×2 for 5×5.
    func tiles(_ h: Int, _ w: Int, _ kernel: Int) -> (Int, Int) {
      let p = kernel / 2
      let plan = ConvolutionPlan(
        S.geometry(n: 16, c: 64, h: h, w: w, kh: kernel, kw: kernel, pad: (p, p, p, p)), outputChannels: 64, groups: 1,
        caller: "test")
      return (plan.winogradOutputTileSize, plan.winogradBackwardOutputTileSize)
    }
    if ConvolutionPlan.winogradTileOverride == nil {
      #expect(tiles(8, 8, 3) == (4, 4) && tiles(16, 16, 3) == (4, 4) && tiles(56, 56, 3) == (4, 2))
      #expect(tiles(17, 17, 3) == (4, 2) && tiles(8, 8, 5) == (2, 2))
    }
    // Square 4×4 and 8×8 maps take the whole-image transforms with 4×4 tiles (on AVX-512).
    let images = ccnn_winograd4_images_supported() != 0
    for (h, w, whole) in [(4, 4, true), (8, 8, true), (8, 4, false), (16, 16, false)] {
      let g = S.geometry(n: 16, c: 64, h: h, w: w, kh: 3, kw: 3, pad: (1, 1, 1, 1))
      #expect(WinogradShape(g, outputChannels: 64, outputTileSize: 4).transformsWholeImages == (whole && images))
      #expect(!WinogradShape(g, outputChannels: 64, outputTileSize: 2).transformsWholeImages)
    }
  }

  /// The filter transform and its gradient are adjoint: ⟨G g Gᵀ, du⟩ = ⟨g, Gᵀ du G⟩, and the
  /// transform of a filter is G g Gᵀ worked out by hand for one.
  @Test func filterGradientIsTheTransformsAdjoint() {
    var u = [Float](repeating: 0, count: 16)
    let impulse: [Float] = [0, 0, 0, 0, 2, 0, 0, 0, 0]  // 2 at the centre
    ccnn_winograd_filters(impulse, 1, 1, 0, 1, 0, 1, &u)
    // G's middle column is (0, ½, −½, 0): u = 2 · that column's outer product.
    #expect(u == [0, 0, 0, 0, 0, 0.5, -0.5, 0, 0, -0.5, 0.5, 0, 0, 0, 0, 0])
    var rng = S.Generator(seed: 5)
    for _ in 0..<20 {
      let g = S.random(9, using: &rng)
      let du = S.random(16, using: &rng)
      ccnn_winograd_filters(g, 1, 1, 0, 1, 0, 1, &u)
      var dg = [Float](repeating: 0, count: 9)
      ccnn_winograd_filter_gradients(du, 1, 0, 1, &dg)
      var left: Float = 0, right: Float = 0
      for i in 0..<16 { left += u[i] * du[i] }
      for i in 0..<9 { right += g[i] * dg[i] }
      #expect(abs(left - right) < 1e-5)
    }
  }

  /// The same for F(2×2, 5×5): G's middle column is (0, −1/6, −1/6, 1/6, 1/6, 0).
  @Test func filterGradientIsTheTransformsAdjoint5x5() {
    var u = [Float](repeating: 0, count: 36)
    var impulse = [Float](repeating: 0, count: 25)
    impulse[12] = 2
    ccnn_winograd5_filters(impulse, 1, 1, 0, 1, 0, 1, &u)
    let column: [Float] = [0, -1.0 / 6, -1.0 / 6, 1.0 / 6, 1.0 / 6, 0]
    for i in 0..<6 {
      for j in 0..<6 { #expect(abs(u[6 * i + j] - 2 * column[i] * column[j]) < 1e-7, "u[\(i)][\(j)]") }
    }
    var rng = S.Generator(seed: 7)
    for _ in 0..<20 {
      let g = S.random(25, using: &rng)
      let du = S.random(36, using: &rng)
      ccnn_winograd5_filters(g, 1, 1, 0, 1, 0, 1, &u)
      var dg = [Float](repeating: 0, count: 25)
      ccnn_winograd5_filter_gradients(du, 1, 0, 1, &dg)
      var left: Float = 0, right: Float = 0
      for i in 0..<36 { left += u[i] * du[i] }
      for i in 0..<25 { right += g[i] * dg[i] }
      #expect(abs(left - right) < 1e-5)
    }
  }

  /// F(2×2, 3×3)'s filter transform, every variant the CPU runs, against `U = G g Gᵀ` worked
  /// out here, plain and flipped, for ranges of
  /// outputs that start and end inside a panel, panels of 1 to 16 rows, and a last panel short
  /// of rows (whose missing rows must stay as they were); every variant gives the same bits.
  @Test func filterTransformMatchesItsFormula() {
    let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    var rng = S.Generator(seed: 12)
    for (outputs, inputs, mr) in [(5, 3, 1), (20, 7, 6), (33, 4, 14), (17, 9, 16), (3, 2, 14)] {
      for flipped in [Int32(0), 1] {
        for (o0, o1) in [(0, outputs), (outputs / 3, outputs - outputs / 4)] where o1 > o0 {
          let weight = S.random(outputs * inputs * 9, using: &rng)
          let panels = (outputs + mr - 1) / mr
          let count = 16 * panels * inputs * mr
          var results: [[Float]] = []
          for isa in Int32(CCNN_ISA_PORTABLE)...ccnn_isa() {
            var u = [Float](repeating: .nan, count: count)
            ccnn_winograd_filters_isa(isa, weight, outputs, inputs, flipped, mr, o0, o1, &u)
            var worst = 0.0
            for o in 0..<outputs {
              for i in 0..<inputs {
                for xi in 0..<16 {
                  let got = u[((xi * panels + o / mr) * inputs + i) * mr + o % mr]
                  if !(o0..<o1).contains(o) {
                    #expect(got.isNaN, "ISA \(isa): filter \(o) is outside \(o0)..<\(o1) but was written")
                    continue
                  }
                  let (a, b) = (xi / 4, xi % 4)
                  var v = 0.0
                  for p in 0..<3 {
                    for q in 0..<3 {
                      let tap = flipped != 0 ? weight[(i * outputs + o) * 9 + 8 - (3 * p + q)] : weight[(o * inputs + i) * 9 + 3 * p + q]
                      v += g[a][p] * Double(tap) * g[b][q]
                    }
                  }
                  worst = got.isNaN ? .infinity : max(worst, abs(Double(got) - v))
                }
              }
            }
            #expect(worst < 1e-5, "ISA \(isa), outputs \(outputs), MR \(mr), flipped \(flipped), \(o0)..<\(o1)")
            results.append(u)
          }
          #expect(results.dropFirst().allSatisfy { zip($0, results[0]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } })
        }
      }
    }
  }

  /// F(4×4, 3×3)'s filter transform against `U = G g Gᵀ` worked out here, plain and flipped,
  /// for ranges of outputs that start and end inside a panel, panels of 1 to 32 rows (the
  /// transform fills a panel four inputs at a time; here 1 to 9 inputs), and a last panel short
  /// of rows; what is outside the range stays as it was. Then its gradient is its adjoint.
  @Test func filterTransform4x4MatchesItsFormula() {
    let g: [[Double]] = [
      [0.25, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
      [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1],
    ]
    var rng = S.Generator(seed: 13)
    for (outputs, inputs, mr) in [(5, 3, 1), (20, 7, 6), (33, 4, 14), (17, 9, 16), (3, 2, 14), (40, 5, 32)] {
      for flipped in [Int32(0), 1] {
        for (o0, o1) in [(0, outputs), (outputs / 3, outputs - outputs / 4)] where o1 > o0 {
          let weight = S.random(outputs * inputs * 9, using: &rng)
          let panels = (outputs + mr - 1) / mr
          var u = [Float](repeating: .nan, count: 36 * panels * inputs * mr)
          ccnn_winograd4_filters(weight, outputs, inputs, flipped, mr, o0, o1, &u)
          var worst = 0.0
          for o in 0..<outputs {
            for i in 0..<inputs {
              for xi in 0..<36 {
                let got = u[((xi * panels + o / mr) * inputs + i) * mr + o % mr]
                if !(o0..<o1).contains(o) {
                  #expect(got.isNaN, "filter \(o) is outside \(o0)..<\(o1) but was written")
                  continue
                }
                let (a, b) = (xi / 6, xi % 6)
                var v = 0.0
                for p in 0..<3 {
                  for q in 0..<3 {
                    let tap = flipped != 0 ? weight[(i * outputs + o) * 9 + 8 - (3 * p + q)] : weight[(o * inputs + i) * 9 + 3 * p + q]
                    v += g[a][p] * Double(tap) * g[b][q]
                  }
                }
                worst = got.isNaN ? .infinity : max(worst, abs(Double(got) - v))
              }
            }
          }
          #expect(worst < 1e-5, "outputs \(outputs), inputs \(inputs), MR \(mr), flipped \(flipped), \(o0)..<\(o1)")
        }
      }
    }
    for _ in 0..<20 {
      let filter = S.random(9, using: &rng)
      let du = S.random(36, using: &rng)
      var u = [Float](repeating: 0, count: 36)
      ccnn_winograd4_filters(filter, 1, 1, 0, 1, 0, 1, &u)
      var dg = [Float](repeating: 0, count: 9)
      ccnn_winograd4_filter_gradients(du, 1, 0, 1, &dg)
      var left: Float = 0, right: Float = 0
      for i in 0..<36 { left += u[i] * du[i] }
      for i in 0..<9 { right += filter[i] * dg[i] }
      #expect(abs(left - right) < 1e-5)
    }
  }

  /// Bᵀ of the 6×6 tiles (F(2×2, 5×5) and F(4×4, 3×3)).
  static let bt6: [[Double]] = [
    [4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1],
  ]

  /// Runs a 6×6 input transform (`transform(rows, len, out, stride, strip)`) on random rows of
  /// `tiles` tiles `step` columns apart and `tileRows` tile rows `step` rows apart, with NaN
  /// in the slack after the rows, and returns its largest error against `V = Bᵀ d B` worked
  /// out here, tile q = first + r·tiles + x at `(q / nr)·strip + q % nr` (or q when nr is 0).
  private static func worstInputTransformError(
    step: Int, tiles: Int, tileRows: Int, nr: Int, first: Int, using rng: inout S.Generator,
    _ transform: (_ rows: [Float], _ len: Int, _ out: inout [Float], _ stride: Int, _ strip: Int) -> Void
  ) -> Double {
    let len = step * tiles + 6 - step
    let rows = S.random((step * tileRows + 6 - step) * len, using: &rng) + [Float](repeating: .nan, count: 64)
    let strip = nr + 3
    let last = first + tileRows * tiles
    let stride = nr > 0 ? ((last + nr - 1) / nr) * strip + 7 : last + 7
    var out = [Float](repeating: .nan, count: 36 * stride)
    transform(rows, len, &out, stride, strip)
    var worst = 0.0
    for r in 0..<tileRows {
      for x in 0..<tiles {
        let q = first + r * tiles + x
        let place = nr > 0 ? (q / nr) * strip + q % nr : q
        for i in 0..<6 {
          for j in 0..<6 {
            var v = 0.0
            for a in 0..<6 {
              for b in 0..<6 { v += bt6[i][a] * Double(rows[(step * r + a) * len + step * x + b]) * bt6[j][b] }
            }
            let got = Double(out[(6 * i + j) * stride + place])
            worst = got.isNaN ? .infinity : max(worst, abs(got - v))
          }
        }
      }
    }
    return worst
  }

  /// F(4×4, 3×3)'s input transform against `V = Bᵀ d B`: tiles four columns and tile rows four
  /// input rows apart, rows of 1 to 17 tiles, tile-major and strip layouts.
  @Test func inputTransform4x4MatchesItsFormula() {
    var rng = S.Generator(seed: 14)
    for tiles in [1, 2, 3, 5, 16, 17] {
      for tileRows in [1, 2, 3] {
        for (nr, first) in [(0, 0), (32, 0), (16, 5)] {
          let worst = Self.worstInputTransformError(
            step: 4, tiles: tiles, tileRows: tileRows, nr: nr, first: first, using: &rng
          ) { rows, len, out, stride, strip in
            ccnn_winograd4_input_rows(rows, len, tileRows, tiles, &out, stride, first, nr, strip)
          }
          #expect(worst < 1e-4, "\(tiles) tiles, \(tileRows) tile rows, NR \(nr)")
        }
      }
    }
  }

  /// F(2×2, 5×5)'s input transform, every variant the CPU runs, against `V = Bᵀ d B`: rows of 1
  /// to 33 tiles (two tile rows to an AVX-512 vector up to 8 tiles, 16 tiles at a time past
  /// that), odd tile-row counts, tile-major and strip layouts, a block not starting at tile 0,
  /// and NaN in the slack after the rows, which no tile reads.
  @Test func inputTransform5x5MatchesItsFormula() {
    var rng = S.Generator(seed: 11)
    for isa in Int32(CCNN_ISA_PORTABLE)...ccnn_isa() {
      for tiles in [1, 2, 3, 5, 7, 8, 9, 16, 17, 33] {
        for tileRows in [1, 2, 3, 4] {
          for (nr, first) in [(0, 0), (32, 0), (16, 5)] {
            let worst = Self.worstInputTransformError(
              step: 2, tiles: tiles, tileRows: tileRows, nr: nr, first: first, using: &rng
            ) { rows, len, out, stride, strip in
              ccnn_winograd5_input_rows_isa(isa, rows, len, tileRows, tiles, &out, stride, first, nr, strip)
            }
            #expect(worst < 1e-4, "ISA \(isa), \(tiles) tiles, \(tileRows) tile rows, NR \(nr)")
          }
        }
      }
    }
  }
}
