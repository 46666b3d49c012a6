import CCNNKernels
import Testing

@testable import CNNKernels

private typealias S = ConvTestSupport

/// Direct convolution (Convolution+Direct.swift, `ccnn_conv_direct`) against the naive
/// reference, and bit for bit against the im2col + GEMM path it replaces: row widths that end
/// in every kind of column block (24, 16, 8 and an overlapping 8), filter counts below, at and
/// past the block of three, unrolled (3, 5) and other filter widths, padding, groups, with and
/// without bias, and one image's rows split over threads.
@Suite struct DirectConvolutionTests {
  static let cases: [ConvCase] = [
    // SimpleConvNet's first layer (24 wide: one block of 24).
    ConvCase(geometry: S.geometry(n: 4, c: 1, h: 28, w: 28, kh: 5, kw: 5), outputChannels: 30),
    // The seed's MNIST CNN (26 wide: 24, then an overlapping 8) and CIFAR-10 CNN (32: 24 + 8).
    ConvCase(geometry: S.geometry(n: 3, c: 1, h: 28, w: 28, kh: 3, kw: 3), outputChannels: 32),
    ConvCase(geometry: S.geometry(n: 2, c: 3, h: 32, w: 32, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 32),
    // 8, 9, 15, 16, 17, 23 and 40 wide; one, two, four and five filters.
    ConvCase(geometry: S.geometry(n: 2, c: 2, h: 10, w: 10, kh: 3, kw: 3), outputChannels: 1),
    ConvCase(geometry: S.geometry(n: 2, c: 1, h: 9, w: 11, kh: 1, kw: 3), outputChannels: 2, bias: false),
    ConvCase(geometry: S.geometry(n: 1, c: 3, h: 7, w: 15, kh: 5, kw: 5, pad: (2, 2, 2, 2)), outputChannels: 4),
    ConvCase(geometry: S.geometry(n: 2, c: 2, h: 6, w: 16, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 5),
    ConvCase(geometry: S.geometry(n: 3, c: 3, h: 5, w: 20, kh: 4, kw: 4, pad: (1, 2, 0, 0)), outputChannels: 7),
    ConvCase(geometry: S.geometry(n: 1, c: 1, h: 12, w: 28, kh: 7, kw: 7, pad: (0, 0, 0, 1)), outputChannels: 6),
    ConvCase(geometry: S.geometry(n: 2, c: 3, h: 6, w: 44, kh: 2, kw: 5), outputChannels: 3, bias: false),
    // Groups: each group's channels and filters.
    ConvCase(geometry: S.geometry(n: 2, c: 4, h: 9, w: 20, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 6, groups: 2),
  ]

  @Test(arguments: cases)
  func matchesNaiveAndTheGEMMPathBitForBit(_ c: ConvCase) {
    let g = c.geometry
    var direct = ConvolutionPlan(g, outputChannels: c.outputChannels, groups: c.groups, caller: "test")
    guard ccnn_conv_direct_supported() != 0 else { return }
    direct.usesWinograd = false
    direct.usesDirect = true
    var gemm = direct
    gemm.usesDirect = false
    var rng = S.Generator(seed: S.seed(c.description) &+ 7)
    let x = S.random(g.batch * g.inputChannels * g.inputPlaneSize, using: &rng)
    let w = S.random(c.outputChannels * direct.window, using: &rng)
    let b = S.random(c.outputChannels, using: &rng)
    let outputCount = g.batch * c.outputChannels * g.outputPlaneSize
    func run(_ plan: ConvolutionPlan, threads: Int) -> [Float] {
      var y = [Float](repeating: .nan, count: outputCount)
      b.withUnsafeBufferPointer { bias in
        conv2DForward(
          plan: plan, schedule: plan.schedule(threads: threads, blockColumns: 0), input: x, weight: w,
          bias: c.bias ? bias.baseAddress : nil, output: &y)
      }
      return y
    }
    var naive = [Float](repeating: .nan, count: outputCount)
    b.withUnsafeBufferPointer { bias in
      conv2DForwardNaive(
        input: x, weight: w, bias: c.bias ? bias.baseAddress : nil, output: &naive, geometry: g,
        outputChannels: c.outputChannels, groups: c.groups)
    }
    let reference = run(gemm, threads: 1)
    for threads in [1, 2, 3] {
      let y = run(direct, threads: threads)
      // Tolerance: Float32 sums of up to R = 75 products in a different order.
      #expect(S.relativeError(y, naive) < 1e-5, "\(threads) threads")
      #expect(y == reference, "\(threads) threads: not the im2col + GEMM path's bits")
    }
  }

  /// The shapes the plan sends direct, and those it does not.
  @Test func planChoosesDirectForFewTapsWithStrideOne() {
    guard ccnn_conv_direct_supported() != 0, ccnn_isa() == Int32(CCNN_ISA_AVX2), ConvolutionPlan.directAllowed else {
      return
    }
    func direct(_ g: ConvGeometry, _ k: Int) -> Bool {
      ConvolutionPlan(g, outputChannels: k, groups: 1, caller: "test").usesDirect
    }
    #expect(direct(S.geometry(n: 100, c: 1, h: 28, w: 28, kh: 5, kw: 5), 30))
    #expect(direct(S.geometry(n: 8, c: 3, h: 32, w: 32, kh: 5, kw: 5, pad: (2, 2, 2, 2)), 64))
    // 76 taps, stride 2, rows under 8 wide, 1×1 and a Winograd shape are not direct.
    #expect(!direct(S.geometry(n: 8, c: 4, h: 32, w: 32, kh: 19, kw: 1), 8))
    #expect(!direct(S.geometry(n: 8, c: 3, h: 32, w: 32, kh: 3, kw: 3, sh: 2, sw: 2), 8))
    #expect(!direct(S.geometry(n: 8, c: 3, h: 7, w: 7, kh: 3, kw: 3), 8))
    #expect(!direct(S.geometry(n: 8, c: 3, h: 32, w: 32, kh: 1, kw: 1), 8))
    #expect(!direct(S.geometry(n: 8, c: 64, h: 32, w: 32, kh: 3, kw: 3, pad: (1, 1, 1, 1)), 64))
  }
}
