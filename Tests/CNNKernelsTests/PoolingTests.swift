import CCNNKernels
import Testing

@testable import CNNKernels

private typealias S = ConvTestSupport

/// One pooling configuration for the fast-versus-naive comparisons.
struct PoolCase: CustomStringConvertible, Sendable {
  var geometry: ConvGeometry
  var mode: PoolingMode
  var description: String { "\(mode) \(geometry)" }
}

/// Windows: 2x2 s2 (even and odd sizes, narrow and wide: the fast special case), overlapping
/// 3x3 s2, padded (symmetric and asymmetric), non-square windows, strides 1-3 (the vector paths),
/// a window as large as the input, and interiors that are not a multiple of four or eight wide.
private let poolGeometries: [ConvGeometry] = [
  S.geometry(n: 2, c: 3, h: 8, w: 6, kh: 2, kw: 2, sh: 2, sw: 2),
  S.geometry(n: 1, c: 2, h: 7, w: 9, kh: 2, kw: 2, sh: 2, sw: 2),
  S.geometry(n: 2, c: 3, h: 11, w: 18, kh: 2, kw: 2, sh: 2, sw: 2),
  S.geometry(n: 3, c: 2, h: 9, w: 9, kh: 3, kw: 3, sh: 2, sw: 2),
  S.geometry(n: 2, c: 2, h: 8, w: 8, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)),
  S.geometry(n: 1, c: 3, h: 6, w: 7, kh: 3, kw: 3, sh: 1, sw: 1, pad: (1, 1, 1, 1)),
  S.geometry(n: 2, c: 1, h: 7, w: 10, kh: 2, kw: 3, sh: 1, sw: 2, pad: (1, 0, 0, 2)),
  S.geometry(n: 2, c: 2, h: 9, w: 20, kh: 3, kw: 4, sh: 2, sw: 3, pad: (1, 1, 2, 1)),
  S.geometry(n: 1, c: 2, h: 5, w: 5, kh: 5, kw: 5, sh: 1, sw: 1),
  S.geometry(n: 5, c: 1, h: 4, w: 4, kh: 2, kw: 2, sh: 1, sw: 1),
  // Interiors of 15, 7 and 9 outputs: the last group of four overlaps the one before it.
  S.geometry(n: 2, c: 2, h: 7, w: 32, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)),
  S.geometry(n: 1, c: 3, h: 16, w: 16, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)),
  S.geometry(n: 1, c: 2, h: 5, w: 11, kh: 3, kw: 3, sh: 1, sw: 1, pad: (1, 1, 1, 1)),
  // Groups of eight: cifar-cnn's 3x3 stride-2 "same" pool over 32 columns (two groups of
  // eight, the second overlapping), stride 1 over 27 columns (three and a ragged fourth), and
  // a 19-column row whose last group of eight would read past the row (a group of four
  // overlapping the eight instead).
  S.geometry(n: 1, c: 2, h: 6, w: 32, kh: 3, kw: 3, sh: 2, sw: 2, pad: (0, 1, 0, 1)),
  S.geometry(n: 1, c: 2, h: 5, w: 27, kh: 3, kw: 3, sh: 1, sw: 1),
  S.geometry(n: 2, c: 1, h: 5, w: 19, kh: 3, kw: 3, sh: 2, sw: 2),
  // Tiny planes (GoogLeNet's 3×3 stride-1 pools on CIFAR-sized input), pooled four planes at
  // a time with the leftover planes one by one: 9, 10 and 6 planes.
  S.geometry(n: 3, c: 3, h: 2, w: 2, kh: 3, kw: 3, sh: 1, sw: 1, pad: (1, 1, 1, 1)),
  S.geometry(n: 2, c: 5, h: 1, w: 1, kh: 3, kw: 3, sh: 1, sw: 1, pad: (1, 1, 1, 1)),
  S.geometry(n: 2, c: 3, h: 4, w: 4, kh: 3, kw: 3, sh: 1, sw: 1, pad: (1, 1, 1, 1)),
]

private let poolCases: [PoolCase] = PoolingMode.allCases.flatMap { mode in
  poolGeometries.map { PoolCase(geometry: $0, mode: mode) }
}

@Suite struct PoolingTests {
  /// [[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16]], 2x2 windows, stride 2.
  static let grid: [Float] = (1...16).map(Float.init)
  static let gridGeometry = S.geometry(n: 1, c: 1, h: 4, w: 4, kh: 2, kw: 2, sh: 2, sw: 2)

  @Test func handComputedGrid() {
    let expected: [PoolingMode: [Float]] = [
      .max: [6, 8, 14, 16], .average: [3.5, 5.5, 11.5, 13.5], .min: [1, 3, 9, 11],
    ]
    let winners: [PoolingMode: [Int32]] = [.max: [5, 7, 13, 15], .min: [0, 2, 8, 10]]
    for mode in PoolingMode.allCases {
      var fast = [Float](repeating: .nan, count: 4)
      var naive = [Float](repeating: .nan, count: 4)
      var index = [Int32](repeating: -1, count: 4)
      pool2DForward(input: Self.grid, output: &fast, geometry: Self.gridGeometry, mode: mode, argIndex: &index)
      pool2DForwardNaive(input: Self.grid, output: &naive, geometry: Self.gridGeometry, mode: mode)
      #expect(fast == expected[mode], "\(mode)")
      #expect(naive == expected[mode], "\(mode)")
      if let want = winners[mode] { #expect(index == want, "\(mode)") }
    }
  }

  @Test func handComputedGridBackward() {
    let dy: [Float] = [10, 20, 30, 40]
    var index = [Int32](repeating: -1, count: 4)
    var scratch = [Float](repeating: 0, count: 4)
    var dx = [Float](repeating: .nan, count: 16)
    pool2DForward(input: Self.grid, output: &scratch, geometry: Self.gridGeometry, mode: .max, argIndex: &index)
    pool2DBackward(dOutput: dy, dInput: &dx, geometry: Self.gridGeometry, mode: .max, argIndex: index)
    #expect(dx == [0, 0, 0, 0, 0, 10, 0, 20, 0, 0, 0, 0, 0, 30, 0, 40])
    pool2DForward(input: Self.grid, output: &scratch, geometry: Self.gridGeometry, mode: .min, argIndex: &index)
    pool2DBackward(dOutput: dy, dInput: &dx, geometry: Self.gridGeometry, mode: .min, argIndex: index)
    #expect(dx == [10, 0, 20, 0, 0, 0, 0, 0, 30, 0, 40, 0, 0, 0, 0, 0])
    pool2DBackward(dOutput: dy, dInput: &dx, geometry: Self.gridGeometry, mode: .average, argIndex: nil)
    #expect(dx == [2.5, 2.5, 5, 5, 2.5, 2.5, 5, 5, 7.5, 7.5, 10, 10, 7.5, 7.5, 10, 10])
  }

  @Test func tiesGoToTheFirstPositionInScanOrder() {
    // A constant plane: every window ties everywhere; the winner is its first real position.
    let twoByTwo = Self.gridGeometry
    let padded = S.geometry(n: 1, c: 1, h: 4, w: 4, kh: 3, kw: 3, sh: 1, sw: 1, pad: (1, 1, 1, 1))
    let ones = [Float](repeating: 1, count: 16)
    for mode in [PoolingMode.max, .min] {
      var out = [Float](repeating: 0, count: 16)
      var index = [Int32](repeating: -1, count: 16)
      pool2DForward(input: ones, output: &out, geometry: twoByTwo, mode: mode, argIndex: &index)
      #expect(Array(index.prefix(4)) == [0, 2, 8, 10])
      pool2DForward(input: ones, output: &out, geometry: padded, mode: mode, argIndex: &index)
      // Window (oh, ow) starts at row max(oh - 1, 0), column max(ow - 1, 0).
      let expected: [Int32] = (0..<16).map { (o: Int) -> Int32 in
        let row: Int = max(o / 4 - 1, 0)
        let column: Int = max(o % 4 - 1, 0)
        return Int32(row * 4 + column)
      }
      #expect(index == expected, "\(mode)")
      #expect(out == ones)
    }
    // Ties among distinct maxima: [[3, 3], [1, 3]] picks offset 0 for max, 2 for min.
    var out: Float = 0
    var index: Int32 = -1
    let g = S.geometry(n: 1, c: 1, h: 2, w: 2, kh: 2, kw: 2, sh: 2, sw: 2)
    pool2DForward(input: [3, 3, 1, 3], output: &out, geometry: g, mode: .max, argIndex: &index)
    #expect(out == 3 && index == 0)
    pool2DForward(input: [3, 1, 1, 3], output: &out, geometry: g, mode: .min, argIndex: &index)
    #expect(out == 1 && index == 1)
  }

  @Test func paddingNeverWinsMaxOrMin() {
    // All-negative input: max with padding must stay negative (padding is not 0 but -inf);
    // all-positive input: min must stay positive. Average counts padding as zero.
    let g = S.geometry(n: 1, c: 1, h: 2, w: 2, kh: 2, kw: 2, sh: 2, sw: 2, pad: (1, 1, 1, 1))
    var out = [Float](repeating: .nan, count: 4)
    var index = [Int32](repeating: -1, count: 4)
    pool2DForward(input: [-1, -2, -3, -4], output: &out, geometry: g, mode: .max, argIndex: &index)
    #expect(out == [-1, -2, -3, -4])
    #expect(index == [0, 1, 2, 3])
    pool2DForward(input: [1, 2, 3, 4], output: &out, geometry: g, mode: .min, argIndex: &index)
    #expect(out == [1, 2, 3, 4])
    pool2DForward(input: [1, 2, 3, 4], output: &out, geometry: g, mode: .average, argIndex: nil)
    #expect(out == [0.25, 0.5, 0.75, 1])
  }

  @Test func nanWinsMaxAndMin() {
    let g = S.geometry(n: 1, c: 1, h: 2, w: 2, kh: 2, kw: 2, sh: 2, sw: 2)
    for mode in [PoolingMode.max, .min] {
      var out: Float = 0
      var index: Int32 = -1
      pool2DForward(input: [1, .nan, 5, -5], output: &out, geometry: g, mode: mode, argIndex: &index)
      #expect(out.isNaN && index == 1, "\(mode)")
      var naive: Float = 0
      pool2DForwardNaive(input: [1, .nan, 5, -5], output: &naive, geometry: g, mode: mode)
      #expect(naive.isNaN, "\(mode)")
    }
    // Four windows at once (the vector path): NaNs in different corners, first NaN wins.
    let wide = S.geometry(n: 1, c: 1, h: 2, w: 8, kh: 2, kw: 2, sh: 2, sw: 2)
    let x: [Float] = [1, .nan, 2, 3, .nan, 4, 5, 6, 7, 8, .nan, .nan, -1, -2, -3, -4]
    for mode in [PoolingMode.max, .min] {
      var out = [Float](repeating: 0, count: 4)
      var index = [Int32](repeating: -1, count: 4)
      pool2DForward(input: x, output: &out, geometry: wide, mode: mode, argIndex: &index)
      #expect(out[0].isNaN && out[1].isNaN && out[2].isNaN && !out[3].isNaN, "\(mode)")
      #expect(Array(index.prefix(3)) == [1, 10, 4], "\(mode)")
      #expect(out[3] == (mode == .max ? 6 : -4) && index[3] == (mode == .max ? 7 : 15), "\(mode)")
    }
  }

  @Test(arguments: poolCases)
  func matchesNaive(_ c: PoolCase) {
    let g = c.geometry
    var rng = S.Generator(seed: S.seed(c.description))
    let inputCount = g.batch * g.inputChannels * g.inputPlaneSize
    let outputCount = g.batch * g.inputChannels * g.outputPlaneSize
    // Random values, and small integers (many ties).
    let inputs = [
      S.random(inputCount, using: &rng),
      (0..<inputCount).map { _ in Float(Int.random(in: 0..<3, using: &rng)) },
    ]
    let dy = S.random(outputCount, using: &rng)
    for x in inputs {
      var naive = [Float](repeating: .nan, count: outputCount)
      pool2DForwardNaive(input: x, output: &naive, geometry: g, mode: c.mode)
      var dxNaive = [Float](repeating: .nan, count: inputCount)
      pool2DBackwardNaive(input: x, dOutput: dy, dInput: &dxNaive, geometry: g, mode: c.mode)
      for threads in [1, 2] {
        var fast = [Float](repeating: .nan, count: outputCount)
        var index = [Int32](repeating: -1, count: outputCount)
        pool2DForward(input: x, output: &fast, geometry: g, mode: c.mode, argIndex: &index, threads: threads)
        var dx = [Float](repeating: .nan, count: inputCount)
        index.withUnsafeBufferPointer { ip in
          pool2DBackward(
            dOutput: dy, dInput: &dx, geometry: g, mode: c.mode,
            argIndex: c.mode == .average ? nil : ip.baseAddress, threads: threads)
        }
        // Tolerance: none. Both add the same values in the same order.
        #expect(fast == naive, "forward, threads \(threads)")
        #expect(dx == dxNaive, "backward, threads \(threads)")
        if c.mode != .average {
          // Each recorded winner holds the pooled value.
          let plane = g.inputPlaneSize, outPlane = g.outputPlaneSize
          let ok = (0..<outputCount).allSatisfy { o in
            let i = Int(index[o])
            return i >= 0 && i < plane && x[(o / outPlane) * plane + i] == fast[o]
          }
          #expect(ok, "argIndex, threads \(threads)")
        }
      }
    }
  }

  /// The C kernel's paths (groups of eight over 32 and 28 columns, overlapping at the row's
  /// end; groups of four over an interior of 7; strides 1, 2 and 3; scalar edges on both
  /// sides) on NaNs, infinities and ties: the naive scan's values and winners exactly, with
  /// and without argIndex.
  @Test(arguments: [
    S.geometry(n: 1, c: 3, h: 7, w: 32, kh: 3, kw: 3, sh: 2, sw: 2, pad: (0, 1, 0, 1)),
    S.geometry(n: 2, c: 2, h: 6, w: 28, kh: 2, kw: 2, sh: 2, sw: 2),
    S.geometry(n: 1, c: 2, h: 16, w: 16, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1)),
    S.geometry(n: 1, c: 2, h: 6, w: 29, kh: 3, kw: 3, sh: 1, sw: 1, pad: (1, 1, 1, 1)),
    S.geometry(n: 1, c: 2, h: 7, w: 40, kh: 4, kw: 3, sh: 2, sw: 3, pad: (2, 1, 2, 1)),
  ])
  func specialValuesMatchNaiveWinners(_ g: ConvGeometry) {
    var rng = S.Generator(seed: S.seed("\(g)"))
    let special: [Float] = [-.infinity, .infinity, .nan, -1, 0, 1]
    let inputCount = g.batch * g.inputChannels * g.inputPlaneSize
    let outputCount = g.batch * g.inputChannels * g.outputPlaneSize
    let inputs = [
      (0..<inputCount).map { _ in special[Int.random(in: 0..<special.count, using: &rng)] },
      // Mostly -inf and a few finite values: windows whose every position ties at -inf.
      (0..<inputCount).map { _ in Int.random(in: 0..<8, using: &rng) == 0 ? 1 : -Float.infinity },
      [Float](repeating: -.infinity, count: inputCount),
      [Float](repeating: .infinity, count: inputCount),
    ]
    func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
    for mode in [PoolingMode.max, .min] {
      for x in inputs {
        var expected = [Float](repeating: 0, count: outputCount)
        var winners = [Int32](repeating: 0, count: outputCount)
        x.withUnsafeBufferPointer { xp in
          for plane in 0..<(g.batch * g.inputChannels) {
            for oh in 0..<g.outputHeight {
              for ow in 0..<g.outputWidth {
                let o = (plane * g.outputHeight + oh) * g.outputWidth + ow
                let (value, winner) = naiveWindow(xp.baseAddress!, plane: plane, oh: oh, ow: ow, geometry: g, mode: mode)
                expected[o] = value
                winners[o] = Int32(winner)
              }
            }
          }
        }
        var out = [Float](repeating: 7, count: outputCount)
        var index = [Int32](repeating: -1, count: outputCount)
        pool2DForward(input: x, output: &out, geometry: g, mode: mode, argIndex: &index, threads: 2)
        #expect(zip(out, expected).allSatisfy(same), "\(mode) values")
        #expect(index == winners, "\(mode) winners")
        var bare = [Float](repeating: 7, count: outputCount)
        pool2DForward(input: x, output: &bare, geometry: g, mode: mode, argIndex: nil, threads: 1)
        #expect(zip(bare, expected).allSatisfy(same), "\(mode) values without argIndex")
        // Each instruction-set variant of the C kernel this CPU runs, not only the widest.
        var shape = ccnn_pool_geometry(
          height: g.inputHeight, width: g.inputWidth, out_height: g.outputHeight, out_width: g.outputWidth,
          kernel_height: g.kernelHeight, kernel_width: g.kernelWidth, stride_height: g.strideHeight,
          stride_width: g.strideWidth, pad_top: g.padTop, pad_left: g.padLeft)
        for isa in Int32(CCNN_ISA_PORTABLE)...ccnn_isa() {
          var variant = [Float](repeating: 7, count: outputCount)
          var variantIndex = [Int32](repeating: -1, count: outputCount)
          ccnn_extremum_pool_isa(isa, x, g.batch * g.inputChannels, &shape, mode == .max ? 1 : 0, &variant, &variantIndex)
          #expect(zip(variant, expected).allSatisfy(same), "\(mode) values, ISA \(isa)")
          #expect(variantIndex == winners, "\(mode) winners, ISA \(isa)")
        }
      }
    }
  }

  @Test func forwardWithoutArgIndex() {
    for g in poolGeometries {
      var rng = S.Generator(seed: S.seed("\(g)"))
      let x = (0..<(g.batch * g.inputChannels * g.inputPlaneSize)).map { _ in
        Float(Int.random(in: -2..<3, using: &rng))
      }
      for mode in PoolingMode.allCases {
        let count = g.batch * g.inputChannels * g.outputPlaneSize
        var a = [Float](repeating: .nan, count: count)
        var b = [Float](repeating: .nan, count: count)
        var index = [Int32](repeating: 0, count: count)
        pool2DForward(input: x, output: &a, geometry: g, mode: mode, argIndex: nil)
        pool2DForward(input: x, output: &b, geometry: g, mode: mode, argIndex: &index)
        #expect(a == b, "\(mode) \(g)")
      }
    }
  }
}
