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

  /// Split by filter panels (every tile in one block, its transforms split by tile rows), the
  /// forward pass gives the bits the split by tile rows gives: each output's sums run in the
  /// same order either way.
  @Test(arguments: runs)
  func panelSplitMatchesTileSplit(_ run: WinogradCase) {
    let c = run.conv
    let g = c.geometry
    let data = Data(c)
    let shape = run.plan.winogradShape
    let kernel = GEMMKernel.current
    let filters = WinogradFilters(
      weight: data.w, algorithm: run.algorithm, outputs: c.outputChannels, inputs: g.inputChannels,
      flipped: false, mr: kernel.mr, threads: 2)
    defer { filters.storage.deallocate() }
    func forward(_ split: WinogradSplit, threads: Int) -> [Float] {
      var y = [Float](repeating: .nan, count: g.batch * c.outputChannels * g.outputPlaneSize)
      data.x.withUnsafeBufferPointer { x in
        data.b.withUnsafeBufferPointer { bias in
          winogradForward(
            shape: shape, filters: filters, bias: c.bias ? bias.baseAddress : nil, output: &y, kernel: kernel,
            threads: threads, split: split
          ) { n, _ in x.baseAddress! + n * shape.imageSize }
        }
      }
      return y
    }
    let tiles = forward(.tiles, threads: 1)
    #expect(!tiles.contains { $0.isNaN })
    for threads in [1, 2, 3] {
      // Counted, not compared as arrays: a failing array comparison would print both.
      let panels = forward(.panels, threads: threads)
      let differing = zip(panels, tiles).filter { $0.0.bitPattern != $0.1.bitPattern }.count
      #expect(differing == 0, "\(threads) threads")
    }
  }

  /// The split `winogradForward` picks: by panels only for a few tiles, several panels a thread
  /// and more than one thread.
  @Test func splitChoice() {
    func split(n: Int, c: Int, k: Int, side: Int, threads: Int) -> WinogradSplit {
      let geometry = S.geometry(n: n, c: c, h: side, w: side, kh: 3, kw: 3, pad: (1, 1, 1, 1))
      let shape = WinogradShape(geometry, outputChannels: k, outputTileSize: 4)
      return WinogradSplit(shape: shape, panels: (k + 5) / 6, threads: threads)
    }
    #expect(split(n: 1, c: 256, k: 256, side: 14, threads: 2) == .panels)
    #expect(split(n: 1, c: 128, k: 128, side: 28, threads: 2) == .panels)
    #expect(split(n: 1, c: 256, k: 256, side: 14, threads: 1) == .tiles)
    #expect(split(n: 1, c: 64, k: 64, side: 56, threads: 2) == .tiles)
    #expect(split(n: 32, c: 256, k: 256, side: 14, threads: 2) == .tiles)
    #expect(split(n: 1, c: 16, k: 16, side: 14, threads: 2) == .tiles)
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
}
