import CCNNKernels
import Testing

@testable @_spi(Testing) import CNNKernels

private typealias S = ConvTestSupport

/// The Winograd transforms in CCNNKernels against their formulas: the filter transforms
/// `U = G g Gᵀ` and their gradients (the adjoints), the 6×6 input transforms `V = Bᵀ d B`, and
/// F(4×4, 3×3)'s whole-image input, output-gradient and output transforms.
/// WinogradTests checks the whole passes against the naive convolution.
@Suite struct WinogradTransformTests {
  /// G of F(2×2, 3×3) and of F(4×4, 3×3).
  static let g2: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
  static let g4: [[Double]] = [
    [0.25, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
    [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1],
  ]

  /// The largest gap `|⟨G g Gᵀ, du⟩ − ⟨g, Gᵀ du G⟩|` over 20 random filters `g` (`taps` values)
  /// and position gradients `du` (`positions` values): the filter gradient is the transform's
  /// adjoint when it is rounding alone.
  private static func adjointGap(
    taps: Int, positions: Int, seed: UInt64,
    transform: (_ g: [Float], _ u: inout [Float]) -> Void, gradient: (_ du: [Float], _ dg: inout [Float]) -> Void
  ) -> Float {
    var rng = S.Generator(seed: seed)
    var gap: Float = 0
    for _ in 0..<20 {
      let g = S.random(taps, using: &rng)
      let du = S.random(positions, using: &rng)
      var u = [Float](repeating: 0, count: positions)
      transform(g, &u)
      var dg = [Float](repeating: 0, count: taps)
      gradient(du, &dg)
      var left: Float = 0, right: Float = 0
      for i in 0..<positions { left += u[i] * du[i] }
      for i in 0..<taps { right += g[i] * dg[i] }
      gap = max(gap, abs(left - right))
    }
    return gap
  }

  /// The filter transform and its gradient are adjoint: ⟨G g Gᵀ, du⟩ = ⟨g, Gᵀ du G⟩, and the
  /// transform of a filter is G g Gᵀ worked out by hand for one.
  @Test func filterGradientIsTheTransformsAdjoint() {
    var u = [Float](repeating: 0, count: 16)
    let impulse: [Float] = [0, 0, 0, 0, 2, 0, 0, 0, 0]  // 2 at the centre
    ccnn_winograd_filters(impulse, 1, 1, 0, 1, 0, 1, &u)
    // G's middle column is (0, ½, −½, 0): u = 2 · that column's outer product.
    #expect(u == [0, 0, 0, 0, 0, 0.5, -0.5, 0, 0, -0.5, 0.5, 0, 0, 0, 0, 0])
    let gap = Self.adjointGap(
      taps: 9, positions: 16, seed: 5, transform: { ccnn_winograd_filters($0, 1, 1, 0, 1, 0, 1, &$1) },
      gradient: { ccnn_winograd_filter_gradients($0, 1, 0, 1, &$1) })
    #expect(gap < 1e-5)
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
    let gap = Self.adjointGap(
      taps: 25, positions: 36, seed: 7, transform: { ccnn_winograd5_filters($0, 1, 1, 0, 1, 0, 1, &$1) },
      gradient: { ccnn_winograd5_filter_gradients($0, 1, 0, 1, &$1) })
    #expect(gap < 1e-5)
  }

  /// The same for F(4×4, 3×3).
  @Test func filterGradientIsTheTransformsAdjoint4x4() {
    let gap = Self.adjointGap(
      taps: 9, positions: 36, seed: 13, transform: { ccnn_winograd4_filters($0, 1, 1, 0, 1, 0, 1, &$1) },
      gradient: { ccnn_winograd4_filter_gradients($0, 1, 0, 1, &$1) })
    #expect(gap < 1e-5)
  }

  /// A 3×3 filter transform's output `u` (packed in `mr`-row panels, α² = `g.count`² positions)
  /// against `U = G g Gᵀ` worked out here for the filters `o0 ..< o1` of `weight`
  /// (`[outputs, inputs, 3, 3]`, or flipped): the largest error, and how many entries of the
  /// other filters were written (they start as NaN).
  private static func filterTransformErrors(
    _ u: [Float], g: [[Double]], weight: [Float], outputs: Int, inputs: Int, mr: Int, flipped: Bool,
    range: Range<Int>
  ) -> (worst: Double, strayWrites: Int) {
    let alpha = g.count, panels = (outputs + mr - 1) / mr
    var worst = 0.0, stray = 0
    for o in 0..<outputs {
      for i in 0..<inputs {
        for xi in 0..<(alpha * alpha) {
          let got = u[((xi * panels + o / mr) * inputs + i) * mr + o % mr]
          if !range.contains(o) {
            if !got.isNaN { stray += 1 }
            continue
          }
          let (a, b) = (xi / alpha, xi % alpha)
          var v = 0.0
          for p in 0..<3 {
            for q in 0..<3 {
              let tap = flipped ? weight[(i * outputs + o) * 9 + 8 - (3 * p + q)] : weight[(o * inputs + i) * 9 + 3 * p + q]
              v += g[a][p] * Double(tap) * g[b][q]
            }
          }
          worst = got.isNaN ? .infinity : max(worst, abs(Double(got) - v))
        }
      }
    }
    return (worst, stray)
  }

  /// Panels of 1 to 32 rows, ranges of outputs that start and end inside a panel, and a last
  /// panel short of rows.
  static let filterCases = [(5, 3, 1), (20, 7, 6), (33, 4, 14), (17, 9, 16), (3, 2, 14), (40, 5, 32)]

  /// F(2×2, 3×3)'s filter transform, every variant the CPU runs, against `U = G g Gᵀ` worked
  /// out here, plain and flipped, for `filterCases` (the missing rows of a short last panel
  /// must stay as they were); every variant gives the same bits.
  @Test func filterTransformMatchesItsFormula() {
    var rng = S.Generator(seed: 12)
    for (outputs, inputs, mr) in Self.filterCases {
      for flipped in [Int32(0), 1] {
        for (o0, o1) in [(0, outputs), (outputs / 3, outputs - outputs / 4)] where o1 > o0 {
          let weight = S.random(outputs * inputs * 9, using: &rng)
          let count = 16 * ((outputs + mr - 1) / mr) * inputs * mr
          var results: [[Float]] = []
          for isa in Int32(CCNN_ISA_PORTABLE)...ccnn_isa() {
            var u = [Float](repeating: .nan, count: count)
            ccnn_winograd_filters_isa(isa, weight, outputs, inputs, flipped, mr, o0, o1, &u)
            let errors = Self.filterTransformErrors(
              u, g: Self.g2, weight: weight, outputs: outputs, inputs: inputs, mr: mr, flipped: flipped != 0,
              range: o0..<o1)
            #expect(errors.strayWrites == 0, "ISA \(isa): filters outside \(o0)..<\(o1) were written")
            #expect(errors.worst < 1e-5, "ISA \(isa), outputs \(outputs), MR \(mr), flipped \(flipped), \(o0)..<\(o1)")
            results.append(u)
          }
          #expect(results.dropFirst().allSatisfy { zip($0, results[0]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } })
        }
      }
    }
  }

  /// F(4×4, 3×3)'s filter transform against `U = G g Gᵀ`, plain and flipped, for `filterCases`
  /// (the transform fills a panel eight inputs at a time; here 2 to 9 inputs).
  @Test func filterTransform4x4MatchesItsFormula() {
    var rng = S.Generator(seed: 13)
    for (outputs, inputs, mr) in Self.filterCases {
      for flipped in [Int32(0), 1] {
        for (o0, o1) in [(0, outputs), (outputs / 3, outputs - outputs / 4)] where o1 > o0 {
          let weight = S.random(outputs * inputs * 9, using: &rng)
          var u = [Float](repeating: .nan, count: 36 * ((outputs + mr - 1) / mr) * inputs * mr)
          ccnn_winograd4_filters(weight, outputs, inputs, flipped, mr, o0, o1, &u)
          let errors = Self.filterTransformErrors(
            u, g: Self.g4, weight: weight, outputs: outputs, inputs: inputs, mr: mr, flipped: flipped != 0,
            range: o0..<o1)
          #expect(errors.strayWrites == 0, "filters outside \(o0)..<\(o1) were written")
          #expect(errors.worst < 1e-5, "outputs \(outputs), inputs \(inputs), MR \(mr), flipped \(flipped), \(o0)..<\(o1)")
        }
      }
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

  /// A of F(4×4, 3×3) (6 × 4): the output-gradient transform is `A dY Aᵀ`, the output transform
  /// `Aᵀ M A`.
  static let a4: [[Double]] = [[1, 0, 0, 0], [1, 1, 1, 1], [1, -1, 1, -1], [1, 2, 4, 8], [1, -2, 4, -8], [0, 0, 0, 1]]

  /// Image counts for the whole-image transforms: one vector part-filled, one full, and counts
  /// past one and two vectors of 8 and of 16.
  static let imageCounts = [1, 5, 8, 13, 16, 19]

  /// Calls `body` with pointers to `count` images of `floats` floats each, cut from `values`.
  private static func withImages<R>(
    _ values: [Float], count: Int, floats: Int, _ body: (UnsafePointer<UnsafePointer<Float>>) -> R
  ) -> R {
    values.withUnsafeBufferPointer { all in
      let pointers = (0..<count).map { all.baseAddress! + $0 * floats }
      return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
  }

  /// F(4×4, 3×3)'s whole-image input transform, every vector width the CPU runs, against
  /// `V = Bᵀ d B` of each zero-padded tile: 4×4 and 8×8 maps, padding 1, tile-major and strip
  /// layouts, a block not starting at tile 0.
  @Test func inputImagesTransformMatchesItsFormula() {
    guard ccnn_winograd4_images_supported() != 0 else { return }
    var rng = S.Generator(seed: 41)
    let channels = 2, pad = 1
    for isa in Int32(CCNN_ISA_AVX2)...ccnn_isa() {
      for size in [4, 8] {
        for count in Self.imageCounts {
          for (nr, first) in [(0, 0), (16, 3)] {
            let tiles = size / 4, plane = size * size
            let images = S.random(count * channels * plane, using: &rng)
            let strip = nr + 3, last = first + tiles * tiles * count
            let stride = nr > 0 ? ((last + nr - 1) / nr) * strip + 7 : last + 7
            let channelStep = 36 * stride
            var out = [Float](repeating: .nan, count: channels * channelStep)
            Self.withImages(images, count: count, floats: channels * plane) { pointers in
              ccnn_winograd4_input_images_isa(
                isa, pointers, count, size, channels, pad, pad, &out, channelStep, stride, first, nr, strip)
            }
            var worst = 0.0
            for j in 0..<count {
              for c in 0..<channels {
                for ty in 0..<tiles {
                  for tx in 0..<tiles {
                    let q = first + (ty * tiles + tx) * count + j
                    let place = nr > 0 ? (q / nr) * strip + q % nr : q
                    func d(_ a: Int, _ b: Int) -> Double {
                      let y = 4 * ty + a - pad, x = 4 * tx + b - pad
                      guard (0..<size).contains(y), (0..<size).contains(x) else { return 0 }
                      return Double(images[(j * channels + c) * plane + y * size + x])
                    }
                    for i in 0..<6 {
                      for k in 0..<6 {
                        var v = 0.0
                        for a in 0..<6 {
                          for b in 0..<6 { v += Self.bt6[i][a] * d(a, b) * Self.bt6[k][b] }
                        }
                        let got = Double(out[c * channelStep + (6 * i + k) * stride + place])
                        worst = got.isNaN ? .infinity : max(worst, abs(got - v))
                      }
                    }
                  }
                }
              }
            }
            #expect(worst < 1e-4, "ISA \(isa), \(size)×\(size), \(count) images, NR \(nr)")
          }
        }
      }
    }
  }

  /// F(4×4, 3×3)'s whole-image output-gradient transform, every vector width the CPU runs,
  /// against `A dY Aᵀ` of each 4×4 tile of dY.
  @Test func gradientImagesTransformMatchesItsFormula() {
    guard ccnn_winograd4_images_supported() != 0 else { return }
    var rng = S.Generator(seed: 42)
    let channels = 3
    for isa in Int32(CCNN_ISA_AVX2)...ccnn_isa() {
      for size in [4, 8] {
        for count in Self.imageCounts {
          let tiles = size / 4, plane = size * size, first = 3
          let stride = first + tiles * tiles * count + 5, channelStep = 36 * stride
          let images = S.random(count * channels * plane, using: &rng)
          var out = [Float](repeating: .nan, count: channels * channelStep)
          Self.withImages(images, count: count, floats: channels * plane) { pointers in
            ccnn_winograd4_gradient_images_isa(isa, pointers, count, size, channels, &out, channelStep, stride, first)
          }
          var worst = 0.0
          for j in 0..<count {
            for k in 0..<channels {
              for ty in 0..<tiles {
                for tx in 0..<tiles {
                  let q = first + (ty * tiles + tx) * count + j
                  for i in 0..<6 {
                    for l in 0..<6 {
                      var v = 0.0
                      for a in 0..<4 {
                        for b in 0..<4 {
                          let dy = Double(images[(j * channels + k) * plane + (4 * ty + a) * size + 4 * tx + b])
                          v += Self.a4[i][a] * dy * Self.a4[l][b]
                        }
                      }
                      let got = Double(out[k * channelStep + (6 * i + l) * stride + q])
                      worst = got.isNaN ? .infinity : max(worst, abs(got - v))
                    }
                  }
                }
              }
            }
          }
          #expect(worst < 1e-4, "ISA \(isa), \(size)×\(size), \(count) images")
        }
      }
    }
  }

  /// F(4×4, 3×3)'s whole-image output transform, every vector width the CPU runs, against
  /// `Y = Aᵀ M A + bias`, with and without a bias; nothing is written past the images' maps.
  @Test func outputImagesTransformMatchesItsFormula() {
    guard ccnn_winograd4_images_supported() != 0 else { return }
    var rng = S.Generator(seed: 43)
    let rows = 3
    for isa in Int32(CCNN_ISA_AVX2)...ccnn_isa() {
      for size in [4, 8] {
        for count in Self.imageCounts {
          for withBias in [false, true] {
            let tiles = size / 4, plane = size * size
            let ldm = tiles * tiles * count + 2, stride = rows * ldm + 3
            let m = S.random(36 * stride, using: &rng)
            let bias = S.random(rows, using: &rng)
            let imageStride = rows * plane + 5
            var out = [Float](repeating: .nan, count: count * imageStride)
            if withBias {
              ccnn_winograd4_output_images_isa(isa, m, stride, ldm, rows, count, size, bias, &out, imageStride)
            } else {
              ccnn_winograd4_output_images_isa(isa, m, stride, ldm, rows, count, size, nil, &out, imageStride)
            }
            var worst = 0.0
            for j in 0..<count {
              for r in 0..<rows {
                for y in 0..<size {
                  for x in 0..<size {
                    let ty = y / 4, tx = x / 4, a = y % 4, b = x % 4
                    let q = (ty * tiles + tx) * count + j
                    var v = withBias ? Double(bias[r]) : 0
                    for i in 0..<6 {
                      for l in 0..<6 { v += Self.a4[i][a] * Double(m[(6 * i + l) * stride + r * ldm + q]) * Self.a4[l][b] }
                    }
                    let got = Double(out[j * imageStride + r * plane + y * size + x])
                    worst = got.isNaN ? .infinity : max(worst, abs(got - v))
                  }
                }
              }
              let slackUntouched = out[(j * imageStride + rows * plane)..<((j + 1) * imageStride)].allSatisfy(\.isNaN)
              #expect(slackUntouched, "ISA \(isa): image \(j)'s slack was written")
            }
            #expect(worst < 1e-4, "ISA \(isa), \(size)×\(size), \(count) images, bias \(withBias)")
          }
        }
      }
    }
  }
}
