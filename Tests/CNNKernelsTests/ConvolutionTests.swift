import Testing

@testable import CNNKernels

/// Helpers shared by the convolution, im2col and pooling tests.
enum ConvTestSupport {
  /// A small deterministic generator (SplitMix64), so failures reproduce.
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  /// `count` uniform values in -1 ... 1.
  static func random(_ count: Int, using rng: inout Generator) -> [Float] {
    (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
  }

  /// The largest |a - b| divided by the largest |b| (at least 1e-3, so all-zero references
  /// still compare absolutely). Arrays of different lengths give infinity.
  static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    var scale: Float = 1e-3
    for i in a.indices {
      let d = abs(a[i] - b[i])
      worst = d.isNaN ? .infinity : max(worst, d)
      scale = max(scale, abs(b[i]))
    }
    return worst / scale
  }

  /// A seed derived from a string (FNV-1a), stable across runs.
  static func seed(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash
  }

  static func geometry(
    n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int, sh: Int = 1, sw: Int = 1,
    pad: (Int, Int, Int, Int) = (0, 0, 0, 0)
  ) -> ConvGeometry {
    ConvGeometry(
      batch: n, inputChannels: c, inputHeight: h, inputWidth: w, kernelHeight: kh, kernelWidth: kw,
      strideHeight: sh, strideWidth: sw, padTop: pad.0, padBottom: pad.1, padLeft: pad.2, padRight: pad.3)
  }
}

/// One convolution configuration for the fast-versus-naive comparisons.
struct ConvCase: CustomStringConvertible, Sendable {
  var geometry: ConvGeometry
  var outputChannels: Int
  var groups: Int = 1
  var bias: Bool = true

  var description: String { "\(geometry) K\(outputChannels) G\(groups) bias \(bias)" }
}

private typealias S = ConvTestSupport

/// Geometries covering strides 1-4, padding 0-3 (asymmetric too), non-square kernels and
/// inputs, 1x1 (pointwise and strided), groups 1/2/4, bias on/off, batch 1 and batch > threads,
/// and a backward pass long enough to be chunked over output rows.
private let convCases: [ConvCase] = [
  ConvCase(geometry: S.geometry(n: 1, c: 1, h: 5, w: 5, kh: 3, kw: 3), outputChannels: 1, bias: false),
  ConvCase(geometry: S.geometry(n: 3, c: 3, h: 8, w: 8, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 4),
  ConvCase(
    geometry: S.geometry(n: 3, c: 4, h: 9, w: 11, kh: 3, kw: 5, sh: 2, sw: 2, pad: (1, 2, 0, 3)),
    outputChannels: 6, groups: 2),
  ConvCase(
    geometry: S.geometry(n: 5, c: 2, h: 12, w: 10, kh: 4, kw: 4, sh: 3, sw: 3, pad: (2, 2, 2, 2)),
    outputChannels: 3),
  ConvCase(
    geometry: S.geometry(n: 2, c: 4, h: 13, w: 13, kh: 5, kw: 5, sh: 4, sw: 4, pad: (3, 3, 3, 3)),
    outputChannels: 4, groups: 4, bias: false),
  ConvCase(geometry: S.geometry(n: 4, c: 8, h: 6, w: 7, kh: 1, kw: 1), outputChannels: 8),
  ConvCase(geometry: S.geometry(n: 3, c: 4, h: 6, w: 7, kh: 1, kw: 1), outputChannels: 6, groups: 2, bias: false),
  ConvCase(geometry: S.geometry(n: 1, c: 3, h: 7, w: 9, kh: 1, kw: 1, sh: 2, sw: 2), outputChannels: 5),
  ConvCase(
    geometry: S.geometry(n: 1, c: 2, h: 10, w: 6, kh: 2, kw: 3, sh: 1, sw: 2, pad: (0, 1, 1, 0)),
    outputChannels: 4),
  ConvCase(
    geometry: S.geometry(n: 3, c: 6, h: 11, w: 11, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)),
    outputChannels: 4, groups: 2, bias: false),
  ConvCase(geometry: S.geometry(n: 4, c: 1, h: 28, w: 28, kh: 5, kw: 5), outputChannels: 6),
  ConvCase(geometry: S.geometry(n: 2, c: 3, h: 15, w: 17, kh: 11, kw: 11, sh: 4, sw: 4), outputChannels: 8),
  ConvCase(
    geometry: S.geometry(n: 1, c: 4, h: 8, w: 9, kh: 3, kw: 2, sh: 3, sw: 1, pad: (0, 2, 1, 1)),
    outputChannels: 8, groups: 4),
  // Stride 1 with at least 16 channels per group: dInput as a convolution with flipped filters.
  ConvCase(
    geometry: S.geometry(n: 3, c: 32, h: 7, w: 9, kh: 3, kw: 2, pad: (2, 0, 1, 1)), outputChannels: 8, groups: 2),
  ConvCase(geometry: S.geometry(n: 1, c: 16, h: 6, w: 6, kh: 5, kw: 5, pad: (4, 4, 4, 4)), outputChannels: 16),
  ConvCase(geometry: S.geometry(n: 2, c: 16, h: 5, w: 7, kh: 2, kw: 2), outputChannels: 4, bias: false),
  // R*OH*OW = 144*32*32 exceeds the backward scratch, so the backward pass runs in chunks.
  ConvCase(geometry: S.geometry(n: 1, c: 16, h: 32, w: 32, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 4),
  // At most four output positions (Convolution+FewPositions.swift): ResNet-18's last stages
  // on 32×32 images (a 1×1 map padded by 1: the centre tap alone; a 2×2 map at stride 2: 4
  // taps; a 2×2 map padded by 1: 4 positions of 4 taps), a window wholly inside the image,
  // asymmetric padding (2 taps), a 1×1 kernel, a window of padding only, 2×1 and 1×3 maps of
  // overlapping windows, and two groups (which take the general path).
  ConvCase(geometry: S.geometry(n: 4, c: 16, h: 1, w: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 8),
  ConvCase(
    geometry: S.geometry(n: 3, c: 8, h: 2, w: 2, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)), outputChannels: 6,
    bias: false),
  ConvCase(geometry: S.geometry(n: 2, c: 3, h: 3, w: 4, kh: 3, kw: 4), outputChannels: 5),
  ConvCase(
    geometry: S.geometry(n: 2, c: 2, h: 2, w: 3, kh: 3, kw: 3, sh: 3, sw: 3, pad: (1, 0, 2, 0)), outputChannels: 3),
  ConvCase(geometry: S.geometry(n: 3, c: 4, h: 1, w: 1, kh: 1, kw: 1), outputChannels: 5),
  ConvCase(geometry: S.geometry(n: 2, c: 2, h: 1, w: 1, kh: 2, kw: 2, sh: 5, sw: 5, pad: (3, 0, 3, 0)), outputChannels: 3),
  ConvCase(geometry: S.geometry(n: 2, c: 4, h: 1, w: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 4, groups: 2),
  ConvCase(geometry: S.geometry(n: 5, c: 6, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 7),
  ConvCase(
    geometry: S.geometry(n: 3, c: 3, h: 4, w: 4, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)), outputChannels: 4,
    bias: false),
  ConvCase(geometry: S.geometry(n: 2, c: 2, h: 3, w: 2, kh: 2, kw: 2), outputChannels: 3),
  ConvCase(geometry: S.geometry(n: 2, c: 3, h: 1, w: 5, kh: 1, kw: 3, pad: (0, 0, 0, 0)), outputChannels: 2),
  // Batches past 32 at few positions (past the few-rows GEMM), with filters and channels not
  // multiples of MR or NR.
  ConvCase(geometry: S.geometry(n: 37, c: 5, h: 1, w: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 35),
  ConvCase(geometry: S.geometry(n: 34, c: 9, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 33),
  ConvCase(
    geometry: S.geometry(n: 33, c: 4, h: 2, w: 3, kh: 3, kw: 3, sh: 3, sw: 3, pad: (1, 0, 2, 0)), outputChannels: 40),
]

@Suite struct ConvolutionTests {
  @Test func seedWorkedExample() {
    // 002: the 3x3 kernel [[1,0,1],[0,1,0],[1,0,1]] over the 5x5 binary image.
    let image: [Float] = [
      1, 1, 1, 0, 0,
      0, 1, 1, 1, 0,
      0, 0, 1, 1, 1,
      0, 0, 1, 1, 0,
      0, 1, 1, 0, 0,
    ]
    let kernel: [Float] = [1, 0, 1, 0, 1, 0, 1, 0, 1]
    let expected: [Float] = [4, 3, 4, 2, 4, 3, 2, 3, 4]
    let g = S.geometry(n: 1, c: 1, h: 5, w: 5, kh: 3, kw: 3)
    #expect(g.outputHeight == 3 && g.outputWidth == 3)
    var fast = [Float](repeating: .nan, count: 9)
    var naive = [Float](repeating: .nan, count: 9)
    conv2DForward(input: image, weight: kernel, bias: nil, output: &fast, geometry: g, outputChannels: 1)
    conv2DForwardNaive(input: image, weight: kernel, bias: nil, output: &naive, geometry: g, outputChannels: 1)
    #expect(fast == expected)
    #expect(naive == expected)
  }

  @Test func seedOutputSize28x28F4S2P1K64() {
    // 002/003: 28x28x1, F=4, S=2, P=1, K=64 gives 14x14x64.
    let g = S.geometry(n: 1, c: 1, h: 28, w: 28, kh: 4, kw: 4, sh: 2, sw: 2, pad: (1, 1, 1, 1))
    #expect(g.outputHeight == 14 && g.outputWidth == 14)
    var rng = S.Generator(seed: 28)
    let x = S.random(28 * 28, using: &rng)
    let w = S.random(64 * 16, using: &rng)
    let b = S.random(64, using: &rng)
    var fast = [Float](repeating: .nan, count: 64 * 14 * 14)
    var naive = fast
    conv2DForward(input: x, weight: w, bias: b, output: &fast, geometry: g, outputChannels: 64)
    conv2DForwardNaive(input: x, weight: w, bias: b, output: &naive, geometry: g, outputChannels: 64)
    #expect(fast.allSatisfy { !$0.isNaN })
    // Tolerance: Float32 sums of 16 products, relative to the largest output.
    #expect(S.relativeError(fast, naive) < 1e-5)
  }

  @Test(arguments: convCases)
  func forwardMatchesNaive(_ c: ConvCase) {
    var rng = S.Generator(seed: S.seed(c.description) &+ 1)
    let g = c.geometry
    let cg = g.inputChannels / c.groups
    let x = S.random(g.batch * g.inputChannels * g.inputPlaneSize, using: &rng)
    let w = S.random(c.outputChannels * cg * g.kernelHeight * g.kernelWidth, using: &rng)
    let b = S.random(c.outputChannels, using: &rng)
    let outputCount = g.batch * c.outputChannels * g.outputPlaneSize
    var naive = [Float](repeating: .nan, count: outputCount)
    b.withUnsafeBufferPointer { bias in
      conv2DForwardNaive(
        input: x, weight: w, bias: c.bias ? bias.baseAddress : nil, output: &naive, geometry: g,
        outputChannels: c.outputChannels, groups: c.groups)
    }
    for threads in [1, 2, 3] {
      var fast = [Float](repeating: .nan, count: outputCount)
      b.withUnsafeBufferPointer { bias in
        conv2DForward(
          input: x, weight: w, bias: c.bias ? bias.baseAddress : nil, output: &fast, geometry: g,
          outputChannels: c.outputChannels, groups: c.groups, threads: threads)
      }
      // Tolerance: Float32 sums of up to R = 144 products in a different order.
      #expect(S.relativeError(fast, naive) < 1e-5, "threads \(threads)")
    }
  }

  @Test(arguments: convCases)
  func backwardMatchesNaive(_ c: ConvCase) {
    var rng = S.Generator(seed: S.seed(c.description) &+ 2)
    let g = c.geometry
    let cg = g.inputChannels / c.groups
    let inputCount = g.batch * g.inputChannels * g.inputPlaneSize
    let weightCount = c.outputChannels * cg * g.kernelHeight * g.kernelWidth
    let x = S.random(inputCount, using: &rng)
    let w = S.random(weightCount, using: &rng)
    let dy = S.random(g.batch * c.outputChannels * g.outputPlaneSize, using: &rng)
    // dWeight and dBias accumulate: start both from the same non-zero values.
    let dWeightStart = S.random(weightCount, using: &rng)
    let dBiasStart = S.random(c.outputChannels, using: &rng)

    var dxNaive = [Float](repeating: .nan, count: inputCount)
    var dwNaive = dWeightStart
    var dbNaive = dBiasStart
    conv2DBackwardNaive(
      input: x, weight: w, dOutput: dy, dInput: &dxNaive, dWeight: &dwNaive, dBias: &dbNaive,
      geometry: g, outputChannels: c.outputChannels, groups: c.groups)

    for threads in [1, 2, 3] {
      // dInput starts as NaN: it must be overwritten, never read.
      var dx = [Float](repeating: .nan, count: inputCount)
      var dw = dWeightStart
      var db = dBiasStart
      dx.withUnsafeMutableBufferPointer { dxp in
        dw.withUnsafeMutableBufferPointer { dwp in
          db.withUnsafeMutableBufferPointer { dbp in
            conv2DBackward(
              input: x, weight: w, dOutput: dy, dInput: dxp.baseAddress, dWeight: dwp.baseAddress,
              dBias: c.bias ? dbp.baseAddress : nil, geometry: g, outputChannels: c.outputChannels,
              groups: c.groups, threads: threads)
          }
        }
      }
      // Tolerance: Float32 sums of up to N*OH*OW = 1024 products in a different order.
      #expect(S.relativeError(dx, dxNaive) < 1e-5, "dInput, threads \(threads)")
      #expect(S.relativeError(dw, dwNaive) < 1e-5, "dWeight, threads \(threads)")
      #expect(c.bias ? S.relativeError(db, dbNaive) < 1e-5 : db == dBiasStart, "dBias, threads \(threads)")
    }
  }

  @Test func backwardSkipsNilGradients() {
    let c = convCases[2]
    let g = c.geometry
    var rng = S.Generator(seed: 7)
    let cg = g.inputChannels / c.groups
    let weightCount = c.outputChannels * cg * g.kernelHeight * g.kernelWidth
    let x = S.random(g.batch * g.inputChannels * g.inputPlaneSize, using: &rng)
    let w = S.random(weightCount, using: &rng)
    let dy = S.random(g.batch * c.outputChannels * g.outputPlaneSize, using: &rng)
    var dwAll = [Float](repeating: 0, count: weightCount)
    var dxAll = [Float](repeating: 0, count: x.count)
    var dbAll = [Float](repeating: 0, count: c.outputChannels)
    conv2DBackward(
      input: x, weight: w, dOutput: dy, dInput: &dxAll, dWeight: &dwAll, dBias: &dbAll, geometry: g,
      outputChannels: c.outputChannels, groups: c.groups, threads: 2)
    var dwOnly = [Float](repeating: 0, count: weightCount)
    conv2DBackward(
      input: x, weight: w, dOutput: dy, dInput: nil, dWeight: &dwOnly, dBias: nil, geometry: g,
      outputChannels: c.outputChannels, groups: c.groups, threads: 2)
    var dxOnly = [Float](repeating: .nan, count: x.count)
    conv2DBackward(
      input: x, weight: w, dOutput: dy, dInput: &dxOnly, dWeight: nil, dBias: nil, geometry: g,
      outputChannels: c.outputChannels, groups: c.groups, threads: 2)
    #expect(dwOnly == dwAll)
    #expect(dxOnly == dxAll)
  }

  @Test func weightAndBiasGradientsAccumulate() {
    // Two backward calls on the same buffers give twice one call.
    let g = S.geometry(n: 5, c: 3, h: 9, w: 9, kh: 3, kw: 3, pad: (1, 1, 1, 1))
    var rng = S.Generator(seed: 11)
    let x = S.random(g.batch * 3 * 81, using: &rng)
    let w = S.random(4 * 27, using: &rng)
    let dy = S.random(g.batch * 4 * 81, using: &rng)
    var once = [Float](repeating: 0, count: 4 * 27)
    var onceBias = [Float](repeating: 0, count: 4)
    conv2DBackward(
      input: x, weight: w, dOutput: dy, dInput: nil, dWeight: &once, dBias: &onceBias, geometry: g,
      outputChannels: 4, threads: 2)
    var twice = [Float](repeating: 0, count: 4 * 27)
    var twiceBias = [Float](repeating: 0, count: 4)
    for _ in 0..<2 {
      conv2DBackward(
        input: x, weight: w, dOutput: dy, dInput: nil, dWeight: &twice, dBias: &twiceBias, geometry: g,
        outputChannels: 4, threads: 2)
    }
    // Tolerance: the second call adds onto the first inside the GEMM, so sums round differently.
    #expect(S.relativeError(twice, once.map { $0 + $0 }) < 1e-6)
    #expect(S.relativeError(twiceBias, onceBias.map { $0 + $0 }) < 1e-6)
  }

  @Test func backwardIsDeterministic() {
    let g = S.geometry(n: 7, c: 4, h: 10, w: 10, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1))
    var rng = S.Generator(seed: 13)
    let x = S.random(g.batch * 4 * 100, using: &rng)
    let w = S.random(6 * 36, using: &rng)
    let dy = S.random(g.batch * 6 * g.outputPlaneSize, using: &rng)
    var results: [[Float]] = []
    for _ in 0..<3 {
      var dw = [Float](repeating: 0, count: 6 * 36)
      var db = [Float](repeating: 0, count: 6)
      conv2DBackward(
        input: x, weight: w, dOutput: dy, dInput: nil, dWeight: &dw, dBias: &db, geometry: g,
        outputChannels: 6, threads: 2)
      results.append(dw + db)
    }
    #expect(results[0] == results[1] && results[1] == results[2])
  }
}

/// Small output maps run in image blocks (Convolution+Batched.swift): every schedule, from one
/// image per GEMM to the whole batch in one, against the naive reference.
@Suite struct ConvolutionScheduleTests {
  /// Per image, blocks of two images, and as few blocks as threads (the whole batch for one).
  static func schedules(_ plan: ConvolutionPlan, threads: Int) -> [ConvolutionSchedule] {
    [
      plan.schedule(threads: threads, blockColumns: 0),
      ConvolutionSchedule(batch: plan.batch, blocks: (plan.batch + 1) / 2, threads: threads),
      plan.schedule(threads: threads, blockColumns: Int.max / 2),
      plan.schedule(threads: threads),
    ]
  }

  /// Cases beyond `convCases` that the blocks must handle: odd batches and maps, the
  /// transposed dInput with groups, pointwise with groups, stride 2 with padding.
  static let cases: [ConvCase] =
    convCases + [
      ConvCase(geometry: S.geometry(n: 7, c: 32, h: 3, w: 5, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 24, groups: 2),
      ConvCase(geometry: S.geometry(n: 5, c: 16, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
      ConvCase(geometry: S.geometry(n: 9, c: 12, h: 3, w: 3, kh: 1, kw: 1), outputChannels: 9, groups: 3),
      ConvCase(
        geometry: S.geometry(n: 6, c: 8, h: 7, w: 5, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)), outputChannels: 10),
      ConvCase(geometry: S.geometry(n: 5, c: 6, h: 5, w: 5, kh: 1, kw: 1, sh: 2, sw: 2), outputChannels: 4, bias: false),
      // A shape Winograd would take, through im2col.
      ConvCase(geometry: S.geometry(n: 3, c: 16, h: 6, w: 6, kh: 3, kw: 3, pad: (1, 1, 1, 1)), outputChannels: 16),
    ]

  @Test(arguments: cases)
  func forwardMatchesNaive(_ c: ConvCase) {
    var rng = S.Generator(seed: S.seed(c.description) &+ 3)
    let g = c.geometry
    var plan = ConvolutionPlan(g, outputChannels: c.outputChannels, groups: c.groups, caller: "test")
    plan.usesWinograd = false  // the im2col paths; WinogradTests and DirectConvolutionTests cover the others
    plan.usesDirect = false
    let x = S.random(g.batch * g.inputChannels * g.inputPlaneSize, using: &rng)
    let w = S.random(c.outputChannels * plan.window, using: &rng)
    let b = S.random(c.outputChannels, using: &rng)
    let outputCount = g.batch * c.outputChannels * g.outputPlaneSize
    var naive = [Float](repeating: .nan, count: outputCount)
    b.withUnsafeBufferPointer { bias in
      conv2DForwardNaive(
        input: x, weight: w, bias: c.bias ? bias.baseAddress : nil, output: &naive, geometry: g,
        outputChannels: c.outputChannels, groups: c.groups)
    }
    for threads in [1, 2, 3] {
      for schedule in Self.schedules(plan, threads: threads) {
        var fast = [Float](repeating: .nan, count: outputCount)
        b.withUnsafeBufferPointer { bias in
          conv2DForward(
            plan: plan, schedule: schedule, input: x, weight: w, bias: c.bias ? bias.baseAddress : nil,
            output: &fast)
        }
        // Tolerance: Float32 sums of up to R = 288 products in a different order.
        #expect(S.relativeError(fast, naive) < 1e-5, "\(schedule)")
      }
    }
  }

  @Test(arguments: cases)
  func backwardMatchesNaive(_ c: ConvCase) {
    var rng = S.Generator(seed: S.seed(c.description) &+ 4)
    let g = c.geometry
    var plan = ConvolutionPlan(g, outputChannels: c.outputChannels, groups: c.groups, caller: "test")
    plan.usesWinograd = false  // the im2col paths; WinogradTests and DirectConvolutionTests cover the others
    plan.usesDirect = false
    let inputCount = g.batch * g.inputChannels * g.inputPlaneSize
    let weightCount = c.outputChannels * plan.window
    let x = S.random(inputCount, using: &rng)
    let w = S.random(weightCount, using: &rng)
    let dy = S.random(g.batch * c.outputChannels * g.outputPlaneSize, using: &rng)
    let dWeightStart = S.random(weightCount, using: &rng)
    let dBiasStart = S.random(c.outputChannels, using: &rng)
    var dxNaive = [Float](repeating: .nan, count: inputCount)
    var dwNaive = dWeightStart
    var dbNaive = dBiasStart
    conv2DBackwardNaive(
      input: x, weight: w, dOutput: dy, dInput: &dxNaive, dWeight: &dwNaive, dBias: &dbNaive,
      geometry: g, outputChannels: c.outputChannels, groups: c.groups)
    let imageSize = c.outputChannels * plan.outputPlane
    for threads in [1, 2, 3] {
      for schedule in Self.schedules(plan, threads: threads) {
        var results: [[Float]] = []
        for _ in 0..<2 {
          var dx = [Float](repeating: .nan, count: inputCount)
          var dw = dWeightStart
          var db = dBiasStart
          dy.withUnsafeBufferPointer { dyp in
            guard let dyBase = dyp.baseAddress else { return }
            db.withUnsafeMutableBufferPointer { dbp in
              conv2DBackward(
                plan: plan, schedule: schedule, input: x, weight: w, dInput: &dx, dWeight: &dw,
                dBias: c.bias ? dbp.baseAddress : nil, imageScratchCount: 0
              ) { n, _ in dyBase + n * imageSize }
            }
          }
          // Tolerance: Float32 sums of up to N*OH*OW products in a different order.
          #expect(S.relativeError(dx, dxNaive) < 1e-5, "dInput, \(schedule)")
          #expect(S.relativeError(dw, dwNaive) < 1e-5, "dWeight, \(schedule)")
          #expect(c.bias ? S.relativeError(db, dbNaive) < 1e-5 : db == dBiasStart, "dBias, \(schedule)")
          results.append(dx + dw + db)
        }
        // Deterministic for a given schedule.
        #expect(results[0] == results[1], "\(schedule)")
      }
    }
  }

  @Test func smallMapsRunInBlocks() {
    // ResNet-18's last stage on 32x32 images, batch 128: blocks with at least 512 columns.
    let g = S.geometry(n: 128, c: 512, h: 2, w: 2, kh: 3, kw: 3, pad: (1, 1, 1, 1))
    let plan = ConvolutionPlan(g, outputChannels: 512, groups: 1, caller: "test")
    let schedule = plan.schedule(threads: 2, blockColumns: 512)
    #expect(schedule.imagesPerBlock == 64 && schedule.blockCount == 2 && schedule.blockThreads == 2)
    // Large maps stay per image.
    let large = ConvolutionPlan(
      S.geometry(n: 100, c: 1, h: 28, w: 28, kh: 5, kw: 5), outputChannels: 30, groups: 1, caller: "test")
    #expect(large.schedule(threads: 2, blockColumns: 512).imagesPerBlock == 1)
  }
}
