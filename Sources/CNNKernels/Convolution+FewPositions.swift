// Convolutions with at most four output positions per image (OH·OW ≤ 4, one group): ResNet's
// last two stages on 32×32 images, where a 3×3 window padded by 1 over a 1×1 map holds one
// pixel of the image and eight of padding, and over a 2×2 map four and five. At each output
// position `p` the convolution is a fully connected layer over the window's real taps (those
// that fall inside the image), so it runs as one batch-wide GEMM per position over them alone,
// and the multiplications by the padding's zeros (8 of 9, and 5 of 9) are left out:
//
//   T_p = the taps (kh, kw), row-major, with 0 ≤ oh·SH − PT + kh < H and 0 ≤ ow·SW − PL + kw < W
//   t = |T_p|, R = C·t
//   X_p [N, R]   X_p[n, c·t + j] = input[n, c, oh·SH − PT + kh_j, ow·SW − PL + kw_j]
//                (the input itself when the taps are the whole image, in order)
//   W_p [K, R]   W_p[k, c·t + j] = weight[k, c, kh_j, kw_j]   (the weight itself when t = KH·KW)
//
//   forward   Y_p [N, K]  = X_p · W_pᵀ, plus bias, into output[n, k, p]
//   backward  dW_p       += dY_pᵀ · X_p, added into the weight at the taps T_p
//             dX_p        = dY_p · W_p, added into dInput (zero elsewhere)
//             dBias[k]   += Σ_n Σ_p dY[n, k, p]
//
// The strategy depends on the shape alone, so a run's sums are the same on every run.

import CCNNKernels

extension ConvolutionPlan {
  /// Whether the convolution runs as one GEMM per output position over the window's real taps
  /// (see above): one group and at most ``fewPositions`` output positions. A pointwise
  /// convolution (1×1, stride 1, no padding) has no padding taps to leave out, so over 2–4
  /// positions it stays one batch-wide GEMM that reads the input in place, rather than
  /// gathering each position's values; over one position the input is `X_p` itself.
  var runsAtFewPositions: Bool {
    outputPlane <= Self.fewPositions && groups == 1 && !(isPointwise && outputPlane > 1)
  }

  /// The most output positions run one GEMM each (2×2 maps). At 4×4, 69 % of a 3×3 padded
  /// window is real, too little to pay for 16 GEMMs and gathers: with 16 here, N128
  /// C256→256 4×4 ran at 81 nominal GF/s forward against 167 batched (`cnn benchmark --only
  /// 4x4 --threads 2`, Intel Xeon, AVX-512).
  static let fewPositions = 4

  /// `KH·KW`, the taps of one window.
  var kernelArea: Int { geometry.kernelHeight * geometry.kernelWidth }

  /// One output position's window: its taps inside the image, row-major, as offsets into a
  /// filter's `[KH, KW]` plane and into an image's `[H, W]` plane.
  struct PositionTaps {
    var weightOffsets: [Int] = []
    var inputOffsets: [Int] = []
    var count: Int { weightOffsets.count }

    /// Whether the taps are the whole `[H, W]` image in order (a 1×1 map padded by 1, or every
    /// position of a 2×2 map padded by 1): then `X_p` is the input itself, `[N, C·H·W]`.
    func coverImage(ofSize plane: Int) -> Bool { inputOffsets.elementsEqual(0..<plane) }
  }

  /// The real taps of output position `position` (`oh·OW + ow`).
  func realTaps(at position: Int) -> PositionTaps {
    let g = geometry
    let (top, left) = ((position / g.outputWidth) * g.strideHeight - g.padTop, (position % g.outputWidth) * g.strideWidth - g.padLeft)
    var taps = PositionTaps()
    for kh in 0..<g.kernelHeight where (0..<g.inputHeight).contains(top + kh) {
      for kw in 0..<g.kernelWidth where (0..<g.inputWidth).contains(left + kw) {
        taps.weightOffsets.append(kh * g.kernelWidth + kw)
        taps.inputOffsets.append((top + kh) * g.inputWidth + left + kw)
      }
    }
    return taps
  }

  /// `X_p [N, C·t]`: each image's values under the taps, channel by channel.
  func gather(
    _ input: UnsafePointer<Float>, at taps: PositionTaps, into x: UnsafeMutablePointer<Float>, threads: Int
  ) {
    let t = taps.count
    taps.inputOffsets.withUnsafeBufferPointer { offsets in
      parallelChunks(batch * inputChannels, threads: threads) { _, imageChannels in
        for imageChannel in imageChannels {
          let plane = input + imageChannel * inputPlane
          let row = x + imageChannel * t
          for j in 0..<t { row[j] = plane[offsets[j]] }
        }
      }
    }
  }

  /// `X_p`: the input itself when the taps cover the image, else gathered into `buffer`.
  func operand(
    _ input: UnsafePointer<Float>, at taps: PositionTaps, buffer: UnsafeMutablePointer<Float>, threads: Int
  ) -> UnsafePointer<Float> {
    if taps.coverImage(ofSize: inputPlane) { return input }
    gather(input, at: taps, into: buffer, threads: threads)
    return UnsafePointer(buffer)
  }
}

/// `W_p` (`K × R`, `R = C·t`), or with `transposed` `W_pᵀ` (`R × K`), as a GEMM right operand
/// packed straight from the weight `[K, C, KH, KW]`: `W_p[k, c·t + j] = weight[k, c, taps_j]`.
/// The forward pass reads `W_pᵀ` and dInput `W_p`, so `W_p` is neither gathered into a buffer
/// of its own nor packed from there: on a 2×2 map those gathers and that packing were 31 % of a
/// forward pass (N128 C512→512), writing and reading 16 MB that the packing now reads from the
/// weight directly.
struct PositionWeightsOperand: GEMMRightOperand {
  let weight: UnsafePointer<Float>
  let transposed: Bool
  let rows: Int
  let columns: Int
  /// `C·KH·KW`: floats between filters.
  let filterStride: Int
  /// Column r of `W_p`'s offset in a filter: `c·KH·KW + taps_j` for `r = c·t + j`.
  let offsets: [Int]

  init(weight: UnsafePointer<Float>, plan: ConvolutionPlan, taps: ConvolutionPlan.PositionTaps, transposed: Bool) {
    self.weight = weight
    self.transposed = transposed
    let r = plan.inputChannels * taps.count
    (rows, columns) = transposed ? (r, plan.outputChannels) : (plan.outputChannels, r)
    filterStride = plan.inputChannels * plan.kernelArea
    var offsets: [Int] = []
    offsets.reserveCapacity(r)
    for c in 0..<plan.inputChannels {
      for tap in taps.weightOffsets { offsets.append(c * plan.kernelArea + tap) }
    }
    self.offsets = offsets
  }

  /// Packs `B[k0 ..< k0 + kc, j0 ..< j0 + nc]` into `nr`-column strips (see
  /// `GEMMRightOperand.pack`). `W_pᵀ`'s columns are filters, each read along its row by
  /// `ccnn_pack_gathered_columns` (`strip[r·nr + t] = weight[bases[t] + offsets[r]]`); `W_p`'s
  /// rows are, so each strip row picks its `nr` values from one filter. (Column by column, as
  /// the gathered packing goes, every load of `W_p` fell in another filter, and dInput's
  /// packing ran at half the speed of gathering `W_p` first and packing that.)
  func pack(into panel: UnsafeMutablePointer<Float>, k0: Int, kc: Int, j0: Int, nc: Int, nr: Int) {
    offsets.withUnsafeBufferPointer { offsets in
      let offsets = offsets.baseAddress!
      var strip = panel
      for col in stride(from: 0, to: nc, by: nr) {
        let width = min(nr, nc - col)
        if transposed {
          withUnsafeTemporaryAllocation(of: Int.self, capacity: nr) { bases in
            for t in 0..<width { bases[t] = (j0 + col + t) * filterStride }
            ccnn_pack_gathered_columns(weight, bases.baseAddress!, width, offsets + k0, kc, strip, nr)
          }
        } else {
          let columns = offsets + j0 + col
          for i in 0..<kc {
            let filter = weight + (k0 + i) * filterStride
            let row = strip + i * nr
            for t in 0..<width { row[t] = filter[columns[t]] }
            for t in width..<nr { row[t] = 0 }
          }
        }
        strip += kc * nr
      }
    }
  }
}

/// The forward pass when `plan.runsAtFewPositions`: `output [N, K, OH, OW]` (see above).
func convolveAtFewPositions(
  plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, threads: Int
) {
  let (n, k, positions) = (plan.batch, plan.outputChannels, plan.outputPlane)
  let widest = plan.inputChannels * plan.kernelArea
  let x = FloatBuffer(count: n * widest)
  // With one position, Y_p is the output itself ([N, K, 1, 1] is [N, K]).
  let product = FloatBuffer(count: positions == 1 ? 0 : n * k)
  defer {
    for buffer in [x, product] { buffer.deallocate() }
  }
  for position in 0..<positions {
    let taps = plan.realTaps(at: position)
    let r = plan.inputChannels * taps.count
    let y = positions == 1 ? output : product.base
    if r == 0 {
      y.initialize(repeating: 0, count: n * k)
    } else {
      let a = plan.operand(input, at: taps, buffer: x.base, threads: threads)
      let b = PositionWeightsOperand(weight: weight, plan: plan, taps: taps, transposed: true)
      gemm(m: n, a: a, lda: r, b: b, c: y, ldc: k, threads: threads)
    }
    if positions > 1 {
      parallelChunks(n * k, threads: threads) { _, rows in
        for i in rows { output[i * positions + position] = y[i] }
      }
    }
  }
  if let bias {
    parallelChunks(n, threads: threads) { _, images in
      for image in images {
        for filter in 0..<k {
          let row = output + (image * k + filter) * positions
          for p in 0..<positions { row[p] += bias[filter] }
        }
      }
    }
  }
}

/// The backward pass when `plan.runsAtFewPositions` (see above); `dOutputImage(n, scratch)`
/// gives image `n`'s `[K, OH, OW]` output gradient, as for `conv2DBackward`.
func conv2DBackwardAtFewPositions(
  plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
  threads: Int, imageScratchCount: Int,
  dOutputImage: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
) {
  let (n, k, positions) = (plan.batch, plan.outputChannels, plan.outputPlane)
  let widest = plan.inputChannels * plan.kernelArea
  let dY = FloatBuffer(count: n * k * positions)
  let dYPosition = FloatBuffer(count: positions == 1 ? 0 : n * k)
  let x = FloatBuffer(count: dWeight == nil ? 0 : n * widest)
  let tapGradient = FloatBuffer(count: dWeight == nil ? 0 : k * widest)
  let dX = FloatBuffer(count: dInput == nil ? 0 : n * widest)
  defer {
    for buffer in [dY, dYPosition, x, tapGradient, dX] { buffer.deallocate() }
  }
  let imageSize = k * positions
  // The images' dY, gathered on the threads (each with its own scratch for `dOutputImage`).
  parallelChunks(n, threads: n * imageSize < 1 << 15 ? 1 : threads) { _, images in
    let scratch = FloatBuffer(count: imageScratchCount)
    defer { scratch.deallocate() }
    for image in images {
      (dY.base + image * imageSize).update(from: dOutputImage(image, scratch.base), count: imageSize)
    }
  }
  if let dBias {
    parallelChunks(k, threads: threads) { _, filters in
      for filter in filters {
        var sum: Float = 0
        for image in 0..<n {
          let row = dY.base + (image * k + filter) * positions
          for p in 0..<positions { sum += row[p] }
        }
        dBias[filter] += sum
      }
    }
  }
  if let dInput {
    let planes = plan.inputPlane
    parallelChunks(n * plan.inputChannels, threads: threads) { _, imageChannels in
      (dInput + imageChannels.lowerBound * planes).initialize(repeating: 0, count: imageChannels.count * planes)
    }
  }
  guard dWeight != nil || dInput != nil else { return }
  for position in 0..<positions {
    let taps = plan.realTaps(at: position)
    let (t, r) = (taps.count, plan.inputChannels * taps.count)
    guard r > 0 else { continue }
    // dY_p [N, K].
    let dy: UnsafePointer<Float>
    if positions == 1 {
      dy = UnsafePointer(dY.base)
    } else {
      parallelChunks(n * k, threads: threads) { _, rows in
        for i in rows { dYPosition.base[i] = dY.base[i * positions + position] }
      }
      dy = UnsafePointer(dYPosition.base)
    }
    if let dWeight {
      let b = plan.operand(input, at: taps, buffer: x.base, threads: threads)
      if t == plan.kernelArea {
        gemm(transposeA: true, m: k, n: r, k: n, a: dy, lda: k, b: b, ldb: r, beta: 1, c: dWeight, ldc: r, threads: threads)
      } else {
        gemm(transposeA: true, m: k, n: r, k: n, a: dy, lda: k, b: b, ldb: r, c: tapGradient.base, ldc: r, threads: threads)
        taps.weightOffsets.withUnsafeBufferPointer { offsets in
          parallelChunks(k * plan.inputChannels, threads: threads) { _, filterChannels in
            for filterChannel in filterChannels {
              let target = dWeight + filterChannel * plan.kernelArea
              for j in 0..<t { target[offsets[j]] += tapGradient.base[filterChannel * t + j] }
            }
          }
        }
      }
    }
    if let dInput {
      let w = PositionWeightsOperand(weight: weight, plan: plan, taps: taps, transposed: false)
      if taps.coverImage(ofSize: plan.inputPlane) {
        // dX_p has dInput's layout: added in by the GEMM itself.
        gemm(m: n, a: dy, lda: k, b: w, beta: 1, c: dInput, ldc: r, threads: threads)
        continue
      }
      gemm(m: n, a: dy, lda: k, b: w, c: dX.base, ldc: r, threads: threads)
      taps.inputOffsets.withUnsafeBufferPointer { offsets in
        parallelChunks(n * plan.inputChannels, threads: threads) { _, imageChannels in
          for imageChannel in imageChannels {
            let plane = dInput + imageChannel * plan.inputPlane
            for j in 0..<t { plane[offsets[j]] += dX.base[imageChannel * t + j] }
          }
        }
      }
    }
  }
}
