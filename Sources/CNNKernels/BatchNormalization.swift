// The per-channel passes of batch normalization over an NCHW batch `[N, C, H, W]`, on raw
// buffers (the layer, its parameters and running statistics are CNNLayers' `BatchNorm2D`):
//
//   moments          Σx and Σx² per channel (or Σ(x − centre)²), in Double
//   normalize        y = x·scale[c] + shift[c], optionally followed by ReLU
//   gradient sums    Σg and Σg·x̂ per channel, x̂ = (x − μ)·invσ, g = dy (or ReLU's gradient)
//   input gradient   dx = scale[c]·(M·g − Σg − (x − μ)·invσ·Σg·x̂)
//   backward         the gradient sums and then the input gradient, block by block (in cache)
//
// The channels are taken in blocks of whole channels; in each image the block is one run of
// `channels · H·W` floats, so the C kernels (CCNNKernels/batchnorm.c) work along that run and
// vectorize even over 1×1 and 2×2 planes. A channel's sums run over the images for each of its
// positions, then over the positions, always in the same order: results do not depend on the
// thread count or on how the channels are blocked.
import CCNNKernels

/// How the channels of one batch-normalization pass are cut into blocks and threads.
struct ChannelBlocks {
  let channels: Int
  let plane: Int
  let perBlock: Int
  let threads: Int

  /// Blocks of about `floatsPerImage` floats per image (at least one channel), and at least
  /// one block per thread when the batch is large enough to split.
  init(batch: Int, channels: Int, plane: Int, threads: Int, floatsPerImage: Int = 2048) {
    self.channels = channels
    self.plane = max(1, plane)
    let threads = batch * channels * plane >= 1 << 15 ? max(1, threads) : 1
    self.threads = threads
    let perThread = (channels + threads - 1) / threads
    perBlock = max(1, min(perThread, floatsPerImage / self.plane))
  }

  var count: Int { (channels + perBlock - 1) / perBlock }

  func channels(ofBlock block: Int) -> Range<Int> {
    (block * perBlock)..<min(channels, (block + 1) * perBlock)
  }

  /// Runs `body` on every block, the blocks split over the threads.
  func forEach(_ body: (_ channels: Range<Int>) -> Void) {
    parallelChunks(count, threads: threads) { _, blocks in
      for block in blocks { body(channels(ofBlock: block)) }
    }
  }

  /// The sum, in order, of the `plane` per-position values of the block's `i`-th channel.
  func planeSum(_ values: UnsafePointer<Double>, channel i: Int) -> Double {
    var sum = 0.0
    for p in 0..<plane { sum += values[i * plane + p] }
    return sum
  }

  /// `values[c]` for each channel of `channels`, repeated for each of its positions.
  func expand(_ values: UnsafePointer<Float>, _ channels: Range<Int>, into out: UnsafeMutablePointer<Float>) {
    for (i, c) in channels.enumerated() { (out + i * plane).update(repeating: values[c], count: plane) }
  }
}

/// Per-channel `Σx` and `Σx²` of `input` `[N, C, H, W]` in Double, or with `centers`, only
/// `Σ(x − centers[c])²` (then `sums` is empty).
public func batchNormMoments(
  input: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, centers: [Double]? = nil,
  threads: Int = ComputeThreads.count
) -> (sums: [Double], squares: [Double]) {
  var sums = [Double](repeating: 0, count: centers == nil ? channels : 0)
  var squares = [Double](repeating: 0, count: channels)
  if batch == 0 || plane == 0 { return (sums, squares) }
  let blocks = ChannelBlocks(batch: batch, channels: channels, plane: plane, threads: threads)
  sums.withUnsafeMutableBufferPointer { sums in
    squares.withUnsafeMutableBufferPointer { squares in
      blocks.forEach { range in
        let length = range.count * blocks.plane
        let work = UnsafeMutablePointer<Double>.allocate(capacity: 3 * length)
        defer { work.deallocate() }
        work.initialize(repeating: 0, count: 3 * length)
        let (sum, square, center) = (work, work + length, work + 2 * length)
        if let centers {
          for (i, c) in range.enumerated() { (center + i * blocks.plane).update(repeating: centers[c], count: blocks.plane) }
        }
        ccnn_bn_moments(
          input + range.lowerBound * plane, batch, channels * plane, length, centers == nil ? nil : center, sum, square)
        for (i, c) in range.enumerated() {
          if centers == nil { sums[c] = blocks.planeSum(sum, channel: i) }
          squares[c] = blocks.planeSum(square, channel: i)
        }
      }
    }
  }
  return (sums, squares)
}

/// `output = input·scale[c] + shift[c]`, then `y < 0 ? 0 : y` when `relu` (`reluForward`'s
/// rule), for `input` and `output` `[N, C, H, W]` (distinct buffers).
public func batchNormNormalize(
  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int,
  scale: [Float], shift: [Float], relu: Bool, threads: Int = ComputeThreads.count
) {
  if batch == 0 || plane == 0 { return }
  let blocks = ChannelBlocks(batch: batch, channels: channels, plane: plane, threads: threads)
  blocks.forEach { range in
    let length = range.count * blocks.plane
    let coefficients = UnsafeMutablePointer<Float>.allocate(capacity: 2 * length)
    defer { coefficients.deallocate() }
    blocks.expand(scale, range, into: coefficients)
    blocks.expand(shift, range, into: coefficients + length)
    let offset = range.lowerBound * plane
    ccnn_bn_normalize(
      input + offset, output + offset, batch, channels * plane, length, coefficients, coefficients + length, relu ? 1 : 0)
  }
}

/// Per-channel `Σg` and `Σg·x̂` in Double, with `x̂ = (x − mean[c])·inverseDeviation[c]` and
/// `g = dOutput`, or with a fused ReLU whose output is `reluOutput`, `g = r > 0 ? dy : 0`
/// (`batchNormBackward` without the input gradient).
public func batchNormGradientSums(
  input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?, batch: Int,
  channels: Int, plane: Int, mean: [Float], inverseDeviation: [Float], threads: Int = ComputeThreads.count
) -> (sum: [Double], sumNormalized: [Double]) {
  batchNormBackward(
    input: input, dOutput: dOutput, reluOutput: reluOutput, dInput: nil, batch: batch, channels: channels,
    plane: plane, count: 0, gamma: [], mean: mean, inverseDeviation: inverseDeviation, threads: threads)
}

/// The whole backward pass on one process: the gradient sums (`batchNormGradientSums`), then
/// (unless `dInput` is nil; `count` M and `gamma` are read only then) `batchNormInputGradient`
/// with `scale[c] = gamma[c]·inverseDeviation[c] / M` and the sums rounded to Float, block by
/// block, each block's input gradient right after its sums while
/// its x, dy and ReLU output are still in L2 (blocks of about 32 K floats over the batch): the
/// two passes read them once from memory instead of twice. The same operations in the same
/// order, so the same bits as the two calls.
public func batchNormBackward(
  input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?,
  dInput: UnsafeMutablePointer<Float>?, batch: Int, channels: Int, plane: Int, count: Float, gamma: [Float],
  mean: [Float], inverseDeviation: [Float], threads: Int = ComputeThreads.count
) -> (sum: [Double], sumNormalized: [Double]) {
  var sums = [Double](repeating: 0, count: channels)
  var normalizedSums = [Double](repeating: 0, count: channels)
  if batch == 0 || plane == 0 { return (sums, normalizedSums) }
  let blocks = ChannelBlocks(
    batch: batch, channels: channels, plane: plane, threads: threads, floatsPerImage: max(1, (1 << 15) / batch))
  sums.withUnsafeMutableBufferPointer { sums in
    normalizedSums.withUnsafeMutableBufferPointer { normalizedSums in
      blocks.forEach { range in
        let length = range.count * blocks.plane
        let work = UnsafeMutablePointer<Double>.allocate(capacity: 2 * length)
        let coefficients = UnsafeMutablePointer<Float>.allocate(capacity: 5 * length)
        defer {
          work.deallocate()
          coefficients.deallocate()
        }
        work.initialize(repeating: 0, count: 2 * length)
        // [scale, sum, mean, inverseDeviation, sumNormalized], each expanded to the block's length.
        let (scale, sum, centre, inverse, sumNormalized) = (
          coefficients, coefficients + length, coefficients + 2 * length, coefficients + 3 * length,
          coefficients + 4 * length
        )
        blocks.expand(mean, range, into: centre)
        blocks.expand(inverseDeviation, range, into: inverse)
        let offset = range.lowerBound * plane
        ccnn_bn_gradient_sums(
          input + offset, dOutput + offset, reluOutput.map { $0 + offset }, batch, channels * plane, length, centre,
          inverse, work, work + length)
        for (i, c) in range.enumerated() {
          sums[c] = blocks.planeSum(work, channel: i)
          normalizedSums[c] = blocks.planeSum(work + length, channel: i)
        }
        guard let dInput else { return }
        for (i, c) in range.enumerated() {
          (scale + i * blocks.plane).update(repeating: gamma[c] * inverseDeviation[c] / count, count: blocks.plane)
          (sum + i * blocks.plane).update(repeating: Float(sums[c]), count: blocks.plane)
          (sumNormalized + i * blocks.plane).update(repeating: Float(normalizedSums[c]), count: blocks.plane)
        }
        ccnn_bn_input_gradient(
          input + offset, dOutput + offset, reluOutput.map { $0 + offset }, dInput + offset, batch, channels * plane,
          length, count, scale, sum, centre, inverse, sumNormalized)
      }
    }
  }
  return (sums, normalizedSums)
}

/// `dInput = scale[c]·(M·g − sum[c] − (x − mean[c])·inverseDeviation[c]·sumNormalized[c])`,
/// g as in `batchNormGradientSums`, M = `count` (the values per channel).
public func batchNormInputGradient(
  input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?,
  dInput: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int, count: Float, scale: [Float],
  sum: [Float], mean: [Float], inverseDeviation: [Float], sumNormalized: [Float], threads: Int = ComputeThreads.count
) {
  if batch == 0 || plane == 0 { return }
  let blocks = ChannelBlocks(batch: batch, channels: channels, plane: plane, threads: threads)
  blocks.forEach { range in
    let length = range.count * blocks.plane
    let coefficients = UnsafeMutablePointer<Float>.allocate(capacity: 5 * length)
    defer { coefficients.deallocate() }
    for (i, values) in [scale, sum, mean, inverseDeviation, sumNormalized].enumerated() {
      values.withUnsafeBufferPointer { blocks.expand($0.baseAddress!, range, into: coefficients + i * length) }
    }
    let offset = range.lowerBound * plane
    ccnn_bn_input_gradient(
      input + offset, dOutput + offset, reluOutput.map { $0 + offset }, dInput + offset, batch, channels * plane,
      length, count, coefficients, coefficients + length, coefficients + 2 * length, coefficients + 3 * length,
      coefficients + 4 * length)
  }
}
