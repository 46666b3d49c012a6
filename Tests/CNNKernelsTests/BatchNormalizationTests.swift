import Testing

@testable import CNNKernels

private typealias S = ConvTestSupport

/// The batch-normalization passes (BatchNormalization.swift) against direct loops over
/// `[N, C, H, W]`, for planes from 1×1 to larger than a block, and any thread count.
@Suite struct BatchNormalizationTests {
  struct Case: CustomStringConvertible, Sendable {
    let batch, channels, plane: Int
    var description: String { "[\(batch), \(channels), \(plane)]" }
  }

  static let cases = [
    Case(batch: 3, channels: 5, plane: 1), Case(batch: 2, channels: 33, plane: 4), Case(batch: 4, channels: 7, plane: 9),
    Case(batch: 2, channels: 3, plane: 3000), Case(batch: 16, channels: 64, plane: 16),
    Case(batch: 8, channels: 70, plane: 64),  // enough values to split over threads
  ]

  @Test(arguments: cases)
  func passesMatchDirectLoops(_ c: Case) {
    var rng = S.Generator(seed: S.seed(c.description))
    let count = c.batch * c.channels * c.plane
    let x = S.random(count, using: &rng).map { $0 * 3 + 1 }
    let dy = S.random(count, using: &rng)
    let r = S.random(count, using: &rng)  // a ReLU output stand-in: its sign is the mask
    let scale = S.random(c.channels, using: &rng), shift = S.random(c.channels, using: &rng)
    let inverse = S.random(c.channels, using: &rng).map { abs($0) + 0.5 }
    func index(_ n: Int, _ ch: Int, _ p: Int) -> Int { (n * c.channels + ch) * c.plane + p }

    var results: [[Double]] = []
    for threads in [1, 2, 3] {
      let moments = batchNormMoments(input: x, batch: c.batch, channels: c.channels, plane: c.plane, threads: threads)
      let mean = (0..<c.channels).map { Float(moments.sums[$0] / Double(c.batch * c.plane)) }
      let centered = batchNormMoments(
        input: x, batch: c.batch, channels: c.channels, plane: c.plane, centers: mean.map(Double.init),
        threads: threads)
      var y = [Float](repeating: .nan, count: count)
      batchNormNormalize(
        input: x, output: &y, batch: c.batch, channels: c.channels, plane: c.plane, scale: scale, shift: shift,
        relu: true, threads: threads)
      let sums = batchNormGradientSums(
        input: x, dOutput: dy, reluOutput: r, batch: c.batch, channels: c.channels, plane: c.plane, mean: mean,
        inverseDeviation: inverse, threads: threads)
      let sumF = sums.sum.map { Float($0) }, normalizedF = sums.sumNormalized.map { Float($0) }
      var dx = [Float](repeating: .nan, count: count)
      batchNormInputGradient(
        input: x, dOutput: dy, reluOutput: r, dInput: &dx, batch: c.batch, channels: c.channels, plane: c.plane,
        count: Float(c.batch * c.plane), scale: scale, sum: sumF, mean: mean, inverseDeviation: inverse,
        sumNormalized: normalizedF, threads: threads)

      for ch in 0..<c.channels {
        var (s, q, cq, g, gn) = (0.0, 0.0, 0.0, 0.0, 0.0)
        for n in 0..<c.batch {
          for p in 0..<c.plane {
            let i = index(n, ch, p)
            let v = Double(x[i])
            s += v
            q += v * v
            cq += (v - Double(mean[ch])) * (v - Double(mean[ch]))
            let grad = r[i] > 0 ? Double(dy[i]) : 0
            g += grad
            gn += grad * Double((x[i] - mean[ch]) * inverse[ch])
            let expectedY = max(0, x[i] * scale[ch] + shift[ch])
            #expect(abs(y[i] - expectedY) <= 1e-6 * max(1, abs(expectedY)))
            let m = Float(c.batch * c.plane)
            let expectedDx =
              scale[ch] * (m * Float(grad) - sumF[ch] - (x[i] - mean[ch]) * inverse[ch] * normalizedF[ch])
            #expect(abs(dx[i] - expectedDx) <= 1e-5 * max(1, abs(expectedDx)))
          }
        }
        #expect(abs(moments.sums[ch] - s) <= 1e-9 * max(1, abs(s)))
        #expect(abs(moments.squares[ch] - q) <= 1e-9 * max(1, q))
        #expect(abs(centered.squares[ch] - cq) <= 1e-9 * max(1, cq))
        #expect(abs(sums.sum[ch] - g) <= 1e-9 * max(1, abs(g)))
        #expect(abs(sums.sumNormalized[ch] - gn) <= 1e-9 * max(1, abs(gn)))
      }
      results.append(moments.sums + moments.squares + sums.sum + sums.sumNormalized + y.map(Double.init) + dx.map(Double.init))
    }
    #expect(results[0] == results[1] && results[1] == results[2], "the same bits on 1, 2 and 3 threads")
  }

  /// `batchNormBackward` (both passes block by block) gives the bits of `batchNormInputGradient`
  /// run after the sums, and the same sums whether or not it writes the input gradient (the sums
  /// themselves are checked against direct loops above), on 1–3 threads; with ReLU's mask and
  /// without.
  @Test(arguments: cases)
  func fusedBackwardMatchesTheTwoPasses(_ c: Case) {
    var rng = S.Generator(seed: S.seed("fused" + c.description))
    let count = c.batch * c.channels * c.plane
    let x = S.random(count, using: &rng).map { $0 * 3 + 1 }
    let dy = S.random(count, using: &rng)
    let r = S.random(count, using: &rng)
    let gamma = S.random(c.channels, using: &rng), mean = S.random(c.channels, using: &rng)
    let inverse = S.random(c.channels, using: &rng).map { abs($0) + 0.5 }
    let m = Float(c.batch * c.plane)
    for threads in [1, 2, 3] {
      for mask in [r, nil] as [[Float]?] {
        let sums = batchNormGradientSums(
          input: x, dOutput: dy, reluOutput: mask, batch: c.batch, channels: c.channels, plane: c.plane, mean: mean,
          inverseDeviation: inverse, threads: threads)
        var expected = [Float](repeating: .nan, count: count)
        batchNormInputGradient(
          input: x, dOutput: dy, reluOutput: mask, dInput: &expected, batch: c.batch, channels: c.channels,
          plane: c.plane, count: m, scale: (0..<c.channels).map { gamma[$0] * inverse[$0] / m },
          sum: sums.sum.map { Float($0) }, mean: mean, inverseDeviation: inverse,
          sumNormalized: sums.sumNormalized.map { Float($0) }, threads: threads)
        var dx = [Float](repeating: .nan, count: count)
        let fused = batchNormBackward(
          input: x, dOutput: dy, reluOutput: mask, dInput: &dx, batch: c.batch, channels: c.channels, plane: c.plane,
          count: m, gamma: gamma, mean: mean, inverseDeviation: inverse, threads: threads)
        #expect(fused.sum == sums.sum && fused.sumNormalized == sums.sumNormalized, "sums, threads \(threads)")
        #expect(dx == expected, "dInput, threads \(threads), mask \(mask != nil)")
        let sumsOnly = batchNormBackward(
          input: x, dOutput: dy, reluOutput: mask, dInput: nil, batch: c.batch, channels: c.channels, plane: c.plane,
          count: m, gamma: gamma, mean: mean, inverseDeviation: inverse, threads: threads)
        #expect(sumsOnly.sum == sums.sum && sumsOnly.sumNormalized == sums.sumNormalized)
      }
    }
  }

  @Test func emptyBatchesAndPlanesDoNothing() {
    let moments = batchNormMoments(input: [1], batch: 0, channels: 2, plane: 4)
    #expect(moments.sums == [0, 0] && moments.squares == [0, 0])
    var y: [Float] = [7]
    batchNormNormalize(input: [1], output: &y, batch: 3, channels: 1, plane: 0, scale: [2], shift: [1], relu: false)
    #expect(y == [7])
  }
}
