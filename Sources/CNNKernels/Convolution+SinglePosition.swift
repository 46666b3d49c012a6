// Convolutions with one output position per image (OH = OW = 1, one group): ResNet's last
// stage on 32×32 images, where a 3×3 window padded by 1 over a 1×1 map holds one pixel of the
// image and eight of padding. Such a convolution is a fully connected layer over the window's
// real taps (those that fall inside the image), so it runs as one batch-wide GEMM over them
// alone, and the multiplications by the padding's zeros (8 of 9 there) are left out:
//
//   T = the taps (kh, kw), row-major, with 0 ≤ kh − PT < H and 0 ≤ kw − PL < W; t = |T|, R = C·t
//   X_T [N, R]   X_T[n, c·t + j] = input[n, c, kh_j − PT, kw_j − PL]
//   W_T [K, R]   W_T[k, c·t + j] = weight[k, c, kh_j, kw_j]   (the weight itself when t = KH·KW)
//
//   forward   Y [N, K]   = X_T · W_Tᵀ, plus bias             ([N, K, 1, 1] is [N, K])
//   backward  dW_T      += dYᵀ · X_T, added into the weight's real taps
//             dX_T       = dY · W_T, scattered into dInput (zero elsewhere)
//             dBias[k]  += Σ_n dY[n, k]
//
// The strategy depends on the shape alone, so a run's sums are the same on every run.

extension ConvolutionPlan {
  /// Whether the convolution runs as one GEMM over its window's real taps (see above).
  var runsAtSinglePosition: Bool { outputPlane == 1 && groups == 1 }

  /// `KH·KW`, the taps of one window.
  var kernelArea: Int { geometry.kernelHeight * geometry.kernelWidth }

  /// The window's taps `(kh, kw)` that fall inside the image, row-major.
  var realTaps: [(kh: Int, kw: Int)] {
    let g = geometry
    var taps: [(kh: Int, kw: Int)] = []
    for kh in 0..<g.kernelHeight where (0..<g.inputHeight).contains(kh - g.padTop) {
      for kw in 0..<g.kernelWidth where (0..<g.inputWidth).contains(kw - g.padLeft) { taps.append((kh, kw)) }
    }
    return taps
  }

  /// `X_T [N, C·t]`: each image's values under the real taps, channel by channel.
  func gatherRealTaps(_ input: UnsafePointer<Float>, taps: [(kh: Int, kw: Int)], into x: UnsafeMutablePointer<Float>) {
    let g = geometry
    let offsets = taps.map { ($0.kh - g.padTop) * g.inputWidth + ($0.kw - g.padLeft) }
    let (t, channels) = (taps.count, inputChannels)
    for n in 0..<batch {
      for c in 0..<channels {
        let plane = input + (n * channels + c) * inputPlane
        let row = x + (n * channels + c) * t
        for j in 0..<t { row[j] = plane[offsets[j]] }
      }
    }
  }

  /// `W_T [K, C·t]`: each filter's weights at the real taps.
  func gatherRealTapWeights(_ weight: UnsafePointer<Float>, taps: [(kh: Int, kw: Int)], into w: UnsafeMutablePointer<Float>) {
    let offsets = taps.map { $0.kh * geometry.kernelWidth + $0.kw }
    let t = taps.count
    for filterChannel in 0..<(outputChannels * inputChannels) {
      let source = weight + filterChannel * kernelArea
      for j in 0..<t { w[filterChannel * t + j] = source[offsets[j]] }
    }
  }
}

/// The forward pass when `plan.runsAtSinglePosition`: `output [N, K]` (see above).
func convolveAtSinglePosition(
  plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, threads: Int
) {
  let taps = plan.realTaps
  let (n, k, r) = (plan.batch, plan.outputChannels, plan.inputChannels * taps.count)
  if r == 0 {
    output.initialize(repeating: 0, count: n * k)
  } else {
    let x = FloatBuffer(count: n * r)
    let tapWeights = FloatBuffer(count: taps.count == plan.kernelArea ? 0 : k * r)
    defer {
      x.deallocate()
      tapWeights.deallocate()
    }
    plan.gatherRealTaps(input, taps: taps, into: x.base)
    let w = taps.count == plan.kernelArea ? weight : UnsafePointer(tapWeights.base)
    if taps.count != plan.kernelArea { plan.gatherRealTapWeights(weight, taps: taps, into: tapWeights.base) }
    gemm(transposeB: true, m: n, n: k, k: r, a: x.base, lda: r, b: w, ldb: r, c: output, ldc: k, threads: threads)
  }
  if let bias {
    for image in 0..<n {
      for filter in 0..<k { output[image * k + filter] += bias[filter] }
    }
  }
}

/// The backward pass when `plan.runsAtSinglePosition` (see above); `dOutputImage(n, scratch)`
/// gives image `n`'s `[K]` output gradient, as for `conv2DBackward`.
func conv2DBackwardAtSinglePosition(
  plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
  threads: Int, imageScratchCount: Int,
  dOutputImage: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
) {
  let taps = plan.realTaps
  let (n, k, t) = (plan.batch, plan.outputChannels, taps.count)
  let r = plan.inputChannels * t
  let allTaps = t == plan.kernelArea
  let dY = FloatBuffer(count: n * k)
  let imageScratch = FloatBuffer(count: imageScratchCount)
  let x = FloatBuffer(count: dWeight == nil ? 0 : n * r)
  // W_T, or dW_T, or both when not every tap is real.
  let tapWeights = FloatBuffer(count: allTaps || dInput == nil ? 0 : k * r)
  let tapGradient = FloatBuffer(count: allTaps || dWeight == nil ? 0 : k * r)
  let dX = FloatBuffer(count: dInput == nil ? 0 : n * r)
  defer {
    for buffer in [dY, imageScratch, x, tapWeights, tapGradient, dX] { buffer.deallocate() }
  }
  for image in 0..<n {
    (dY.base + image * k).update(from: dOutputImage(image, imageScratch.base), count: k)
  }
  if let dBias {
    for filter in 0..<k {
      var sum: Float = 0
      for image in 0..<n { sum += dY.base[image * k + filter] }
      dBias[filter] += sum
    }
  }
  if let dWeight, r > 0 {
    plan.gatherRealTaps(input, taps: taps, into: x.base)
    if allTaps {
      gemm(
        transposeA: true, m: k, n: r, k: n, a: dY.base, lda: k, b: x.base, ldb: r, beta: 1, c: dWeight, ldc: r,
        threads: threads)
    } else {
      gemm(transposeA: true, m: k, n: r, k: n, a: dY.base, lda: k, b: x.base, ldb: r, c: tapGradient.base, ldc: r, threads: threads)
      let offsets = taps.map { $0.kh * plan.geometry.kernelWidth + $0.kw }
      for filterChannel in 0..<(k * plan.inputChannels) {
        let target = dWeight + filterChannel * plan.kernelArea
        for j in 0..<t { target[offsets[j]] += tapGradient.base[filterChannel * t + j] }
      }
    }
  }
  if let dInput {
    dInput.initialize(repeating: 0, count: n * plan.inputChannels * plan.inputPlane)
    guard r > 0 else { return }
    let w = allTaps ? weight : UnsafePointer(tapWeights.base)
    if !allTaps { plan.gatherRealTapWeights(weight, taps: taps, into: tapWeights.base) }
    gemm(m: n, n: r, k: k, a: dY.base, lda: k, b: w, ldb: r, c: dX.base, ldc: r, threads: threads)
    let g = plan.geometry
    let offsets = taps.map { ($0.kh - g.padTop) * g.inputWidth + ($0.kw - g.padLeft) }
    for imageChannel in 0..<(n * plan.inputChannels) {
      let plane = dInput + imageChannel * plan.inputPlane
      for j in 0..<t { plane[offsets[j]] = dX.base[imageChannel * t + j] }
    }
  }
}
