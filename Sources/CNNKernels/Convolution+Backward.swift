

// The backward pass of `conv2DForward` (Convolution.swift): dInput, dWeight and dBias.

/// The gradients of `conv2DForward` with respect to its input, weight and bias.
///
/// Shape: as `conv2DForward`, plus dOutput `[N, K, OH, OW]` -> dInput `[N, C, H, W]`,
/// dWeight `[K, C/G, KH, KW]`, dBias `[K]`:
/// `dInput = col2im(W^T * dOutput)`, `dWeight += dOutput * im2col(input)^T`,
/// `dBias[k] += sum over n, oh, ow of dOutput[n, k, oh, ow]` (per image and group).
///
/// dInput is overwritten (skipped when nil); dWeight and dBias are ACCUMULATED (+=)
/// (skipped when nil). Each thread sums its images' weight and bias gradients into its own
/// buffer; the buffers are added in a fixed order, so results are bit-identical run to run
/// for a given thread count.
///
/// - Parameters:
///   - input: The forward input `[N, C, H, W]`.
///   - weight: The filters `[K, C/G, KH, KW]`.
///   - dOutput: The gradient of the loss with respect to the output, `[N, K, OH, OW]`.
///   - dInput: Receives the gradient with respect to the input (overwritten), or `nil`.
///   - dWeight: Accumulates the gradient with respect to the weight, or `nil`.
///   - dBias: Accumulates the gradient with respect to the bias, or `nil`.
///   - geometry: N, C, H, W, kernel, stride and padding.
///   - outputChannels: K.
///   - groups: G.
///   - threads: Threads to use.
/// - Complexity: O(N * K * C/G * KH * KW * OH * OW) for each of dInput and dWeight.
public func conv2DBackward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
  geometry: ConvGeometry, outputChannels: Int, groups: Int = 1, threads: Int = ComputeThreads.count
) {
  let plan = ConvolutionPlan(geometry, outputChannels: outputChannels, groups: groups, caller: "conv2DBackward")
  let imageSize = plan.outputChannels * plan.outputPlane
  conv2DBackward(
    plan: plan, schedule: plan.schedule(threads: threads), input: input, weight: weight, dInput: dInput,
    dWeight: dWeight, dBias: dBias, imageScratchCount: 0
  ) { n, _ in dOutput + n * imageSize }
}

/// `conv2DBackward`, with image `n`'s dOutput `[K, OH, OW]` given by `dOutputImage(n, scratch)`,
/// which may compute it into `scratch` (`imageScratchCount` floats, one buffer per thread).
func conv2DBackward(
  plan: ConvolutionPlan, schedule: ConvolutionSchedule, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
  imageScratchCount: Int,
  dOutputImage: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
) {
  if plan.batch == 0 || (dInput == nil && dWeight == nil && dBias == nil) { return }
  if plan.runsAtFewPositions {
    return conv2DBackwardAtFewPositions(
      plan: plan, input: input, weight: weight, dInput: dInput, dWeight: dWeight, dBias: dBias,
      threads: schedule.blockThreads * schedule.gemmThreads, imageScratchCount: imageScratchCount,
      dOutputImage: dOutputImage)
  }
  if plan.usesWinograd {
    return conv2DBackwardWinograd(
      plan: plan, input: input, weight: weight, dInput: dInput, dWeight: dWeight, dBias: dBias,
      threads: schedule.blockThreads * schedule.gemmThreads, imageScratchCount: imageScratchCount,
      dOutputImage: dOutputImage)
  }
  let nb = schedule.imagesPerBlock
  let chunks = max(1, min(schedule.blockThreads, schedule.blockCount))  // as parallelChunks splits
  let weightCount = plan.outputChannels * plan.window
  // Chunk 0 accumulates straight into dWeight/dBias; chunks 1... into zeroed partial buffers.
  let partialWeights = dWeight == nil ? 0 : (chunks - 1) * weightCount
  let partialBiases = dBias == nil ? 0 : (chunks - 1) * plan.outputChannels
  let partials = FloatBuffer(count: partialWeights + partialBiases)
  defer { partials.deallocate() }
  // With stride 1, dInput is itself a convolution (of dOutput with the flipped filters).
  let flipped = dInput != nil && plan.transposedGeometry != nil ? plan.flippedWeights(weight) : nil
  defer { flipped?.deallocate() }

  parallelChunks(schedule.blockCount, threads: schedule.blockThreads) { chunk, blocks in
    let chunkWeight = dWeight.map { chunk == 0 ? $0 : partials.base + (chunk - 1) * weightCount }
    let chunkBias = dBias.map {
      chunk == 0 ? $0 : partials.base + partialWeights + (chunk - 1) * plan.outputChannels
    }
    // Each chunk after the first zeroes its own partial sums (on its own thread).
    if chunk > 0 {
      chunkWeight?.initialize(repeating: 0, count: weightCount)
      chunkBias?.initialize(repeating: 0, count: plan.outputChannels)
    }
    let folds = !plan.isPointwise && dInput != nil && flipped == nil
    let sizes = plan.backwardBufferCounts(
      images: nb, dInput: dInput != nil, dWeight: dWeight != nil, folds: folds, transposed: flipped != nil)
    let scratch = FloatBuffer(count: sizes.scratch)
    let workspace = FloatBuffer(count: sizes.workspace)
    let outputWorkspace = FloatBuffer(count: sizes.outputWorkspace)
    let blockOutput = FloatBuffer(count: sizes.blockOutput)
    let imageScratch = FloatBuffer(count: imageScratchCount)
    defer {
      scratch.deallocate()
      workspace.deallocate()
      outputWorkspace.deallocate()
      blockOutput.deallocate()
      imageScratch.deallocate()
    }
    let buffers = BackwardBuffers(
      scratch: scratch.base, workspace: workspace.base, outputWorkspace: outputWorkspace.base,
      flippedWeight: flipped?.base, blockOutput: blockOutput.base)
    for block in blocks {
      let images = schedule.images(ofBlock: block, batch: plan.batch)
      if images.count == 1 {
        let n = images.lowerBound
        let dOutput = dOutputImage(n, imageScratch.base)
        for group in 0..<plan.groups {
          conv2DBackwardImage(
            plan: plan, n: n, group: group, input: input, weight: weight, dOutputImage: dOutput,
            dInput: dInput, dWeight: chunkWeight, dBias: chunkBias, buffers: buffers, threads: schedule.gemmThreads)
        }
      } else {
        conv2DBackwardBlock(
          plan: plan, images: images, input: input, weight: weight, dInput: dInput, dWeight: chunkWeight,
          dBias: chunkBias, buffers: buffers, threads: schedule.gemmThreads
        ) { n in dOutputImage(n, imageScratch.base) }
      }
    }
  }

  // Add the partial sums in chunk order (deterministic).
  if let dWeight {
    addPartialSums(
      partials.base, partStride: weightCount, partCount: chunks - 1, into: dWeight, count: weightCount,
      threads: schedule.blockThreads)
  }
  if let dBias {
    addPartialSums(
      partials.base + partialWeights, partStride: plan.outputChannels, partCount: chunks - 1, into: dBias,
      count: plan.outputChannels, threads: 1)
  }
}

/// Per-thread buffers of the backward pass (see `ConvolutionPlan.backwardBufferCounts`).
struct BackwardBuffers {
  /// `plan.scratchCount` floats: a chunk of dB before col2im.
  let scratch: UnsafeMutablePointer<Float>
  /// `plan.workspaceCount` floats: the input operand's padded source, then (col2im path) the
  /// padded dInput being folded.
  let workspace: UnsafeMutablePointer<Float>
  /// `plan.transposedWorkspaceCount` floats: the dOutput operand's padded source.
  let outputWorkspace: UnsafeMutablePointer<Float>
  /// The filters flipped for the transposed convolution, when dInput is computed that way.
  let flippedWeight: UnsafeMutablePointer<Float>?
  /// Image blocks only: the block's dOutput twice, `[Nb, K, P]` then `[K, Nb*P]`.
  let blockOutput: UnsafeMutablePointer<Float>
}

/// The backward pass of one image `n` and one group: dBias and dWeight (accumulated into the
/// given per-thread buffers) and dInput's channels of that group (overwritten).
/// `dOutputImage` is the image's dOutput, `[K, OH, OW]`. `threads` go to each GEMM and to the folds.
private func conv2DBackwardImage(
  plan: ConvolutionPlan, n: Int, group: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dOutputImage: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
  dBias: UnsafeMutablePointer<Float>?, buffers: BackwardBuffers, threads: Int
) {
  let kg = plan.groupOutputChannels, cg = plan.groupChannels, r = plan.window, p = plan.outputPlane
  let x = plan.inputImage(input, n, group)
  let w = plan.groupWeight(weight, group)
  let dy = dOutputImage + group * kg * p
  let dx = dInput.map { $0 + (n * plan.inputChannels + group * cg) * plan.inputPlane }
  let dw = dWeight.map { $0 + group * kg * r }

  if let dBias {
    for k in 0..<kg { dBias[group * kg + k] += sumFloats(dy + k * p, count: p) }
  }

  if plan.isPointwise {
    // B is the image itself (Cg x H*W), and dB is dInput itself.
    if let dw {
      gemm(
        transposeB: true, m: kg, n: cg, k: p, a: dy, lda: p, b: x, ldb: plan.inputPlane,
        beta: 1, c: dw, ldc: r, threads: threads)
    }
    if let dx {
      gemm(
        transposeA: true, m: cg, n: p, k: kg, a: w, lda: r, b: dy, ldb: p,
        beta: 0, c: dx, ldc: plan.inputPlane, threads: threads)
    }
    return
  }

  // Stride 1: dInput (Cg x H*W) = flipped W (Cg x Kg*KH*KW) * im2col(dOutput), no col2im.
  var foldInput = dx
  if let dx, let flipped = buffers.flippedWeight, let transposed = plan.transposedGeometry {
    let b = Im2ColOperand(image: dy, geometry: transposed, workspace: buffers.outputWorkspace, threads: threads)
    gemm(
      m: cg, a: flipped + group * cg * transposed.windowSize, lda: transposed.windowSize, b: b,
      beta: 0, c: dx, ldc: plan.inputPlane, threads: threads)
    foldInput = nil
  }
  if let dw {
    // dW (Kg x R) += dY (Kg x P) * B^T, B^T packed straight from the input (a transpose).
    let operand = Im2ColOperand(image: x, geometry: plan.groupGeometry, workspace: buffers.workspace, threads: threads)
    gemm(m: kg, a: dy, lda: p, b: Im2ColTransposedOperand(operand: operand), beta: 1, c: dw, ldc: r, threads: threads)
  }
  guard let foldInput else { return }

  // Otherwise: dB (R x P) = W^T * dY, folded back into dInput (col2im), a few output rows at
  // a time so the scratch stays in L2. The fold adds into the padded, phase-split layout of
  // the operand's source (contiguous adds for any stride), then gathers it into dInput.
  let layout = Im2ColLayout(plan.groupGeometry)
  let dSource = layout.readsInPlace ? foldInput : buffers.workspace
  fillZero(dSource, count: cg * layout.channelStride)
  let windowPerChannel = layout.window
  let outputWidth = plan.geometry.outputWidth
  let scratch = buffers.scratch
  // The folds split their channels over the threads when the GEMMs are threaded too.
  let channelThreads = min(threads, cg)
  for rowStart in stride(from: 0, to: plan.geometry.outputHeight, by: plan.chunkRows) {
    let rows = rowStart..<min(plan.geometry.outputHeight, rowStart + plan.chunkRows)
    let columns = rows.count * outputWidth
    gemm(
      transposeA: true, m: r, n: columns, k: kg, a: w, lda: r, b: dy + rowStart * outputWidth, ldb: p,
      beta: 0, c: scratch, ldc: columns, threads: threads)
    parallelChunks(cg, threads: channelThreads) { _, channels in
      foldWindows(
        columns: scratch + channels.lowerBound * windowPerChannel * columns, leadingDimension: columns,
        channels: channels, outputRows: rows, layout: layout, into: dSource)
    }
  }
  if !layout.readsInPlace {
    parallelChunks(cg, threads: channelThreads) { _, channels in
      layout.gather(dSource, into: foldInput, channels: channels)
    }
  }
}

/// The sum of `count` floats, in eight interleaved partial sums (a fixed order).
@inline(__always)
func sumFloats(_ values: UnsafePointer<Float>, count: Int) -> Float {
  var partial = SIMD8<Float>()
  var i = 0
  while i + 8 <= count {
    partial += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
    i += 8
  }
  var sum = partial.sum()
  while i < count {
    sum += values[i]
    i += 1
  }
  return sum
}

/// Sizes derived once per convolution call, and the checks on them.
struct ConvolutionPlan {
  /// Floats of scratch per thread in the backward pass (about 512 KB, to stay in L2).
  static let scratchTarget = 1 << 17

  let geometry: ConvGeometry
  /// The geometry one group sees (C replaced by C/G).
  let groupGeometry: ConvGeometry
  let batch: Int
  let inputChannels: Int
  let outputChannels: Int
  let groups: Int
  let groupChannels: Int
  let groupOutputChannels: Int
  /// R = C/G * KH * KW.
  let window: Int
  /// H * W.
  let inputPlane: Int
  /// OH * OW.
  let outputPlane: Int
  /// 1x1 kernel, stride 1, no padding: the image is its own im2col matrix.
  let isPointwise: Bool
  /// Output rows per backward chunk.
  let chunkRows: Int
  /// For the backward pass with stride 1: the geometry of dInput as a convolution of one
  /// image's dOutput group `[Kg, OH, OW]` with the flipped filters (padding `KH - 1 - P`), which
  /// gives `[Cg, H, W]`. `nil` when dInput goes through col2im instead (strides above 1, padding
  /// as large as the kernel, or fewer than `transposedMinimumChannels` channels per group).
  let transposedGeometry: ConvGeometry?

  /// Below this many input channels per group, dInput = flipped W * im2col(dOutput) has too few
  /// GEMM rows to pay off, and col2im is used.
  static let transposedMinimumChannels = 16

  /// Whether the forward pass runs direct (Convolution+Direct.swift): by default when the shape
  /// suits it (`suitsDirect`); tests turn it off to check the other paths.
  var usesDirect = false
  /// Whether the passes run as Winograd F(m×m, 3×3) or F(2×2, 5×5) (Convolution+Winograd.swift):
  /// by default when the shape suits it (`suitsWinograd`); tests turn it off to check the other
  /// paths.
  var usesWinograd = false
  /// m, the output tiles' size when the forward pass runs as Winograd: 2, or 4 for 3×3 filters
  /// (`preferredWinogradOutputTileSizes`; tests set each).
  var winogradOutputTileSize = 2
  /// m for the backward passes (dInput and dWeight).
  var winogradBackwardOutputTileSize = 2

  init(_ g: ConvGeometry, outputChannels: Int, groups: Int, caller: String) {
    precondition(g.validationError == nil, "\(caller): \(g.validationError ?? "")")
    precondition(groups >= 1, "\(caller): groups must be at least 1, got \(groups)")
    precondition(
      g.inputChannels % groups == 0 && outputChannels % groups == 0 && outputChannels > 0,
      "\(caller): C = \(g.inputChannels) and K = \(outputChannels) must be positive multiples of groups = \(groups)")
    geometry = g
    var sub = g
    sub.inputChannels = g.inputChannels / groups
    sub.batch = 1
    groupGeometry = sub
    batch = g.batch
    inputChannels = g.inputChannels
    self.outputChannels = outputChannels
    self.groups = groups
    groupChannels = g.inputChannels / groups
    groupOutputChannels = outputChannels / groups
    window = sub.windowSize
    inputPlane = g.inputPlaneSize
    outputPlane = g.outputPlaneSize
    isPointwise =
      g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
      && g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
    let rowFloats = max(1, window * g.outputWidth)
    chunkRows = max(1, min(g.outputHeight, Self.scratchTarget / rowFloats))
    if g.strideHeight == 1 && g.strideWidth == 1 && !isPointwise
      && max(g.padTop, g.padBottom) < g.kernelHeight && max(g.padLeft, g.padRight) < g.kernelWidth
      && g.inputChannels / groups >= Self.transposedMinimumChannels
    {
      transposedGeometry = ConvGeometry(
        batch: 1, inputChannels: outputChannels / groups, inputHeight: g.outputHeight, inputWidth: g.outputWidth,
        kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
        padTop: g.kernelHeight - 1 - g.padTop, padBottom: g.kernelHeight - 1 - g.padBottom,
        padLeft: g.kernelWidth - 1 - g.padLeft, padRight: g.kernelWidth - 1 - g.padRight)
    } else {
      transposedGeometry = nil
    }
    usesWinograd = suitsWinograd
    usesDirect = !usesWinograd && suitsDirect
    (winogradOutputTileSize, winogradBackwardOutputTileSize) = preferredWinogradOutputTileSizes
  }

  /// Floats of workspace for the dOutput operand of the transposed convolution.
  var transposedWorkspaceCount: Int { transposedGeometry.map { Im2ColOperand.workspaceCount(for: $0) } ?? 0 }

  /// The filters rearranged for dInput as a convolution: per group, a `Cg x (Kg*KH*KW)` matrix
  /// with `flipped[g][ci][kk][kh][kw] = weight[g*Kg + kk][ci][KH-1-kh][KW-1-kw]`.
  /// The caller deallocates the buffer.
  func flippedWeights(_ weight: UnsafePointer<Float>) -> FloatBuffer {
    let kernelHeight = geometry.kernelHeight, kernelWidth = geometry.kernelWidth
    let perChannel = kernelHeight * kernelWidth
    let buffer = FloatBuffer(count: outputChannels * window)
    var dst = buffer.base
    for group in 0..<groups {
      for ci in 0..<groupChannels {
        for kk in 0..<groupOutputChannels {
          let filter = weight + ((group * groupOutputChannels + kk) * groupChannels + ci) * perChannel
          for i in 0..<perChannel { dst[i] = filter[perChannel - 1 - i] }
          dst += perChannel
        }
      }
    }
    return buffer
  }

  /// Floats of backward scratch: R x (chunkRows * OW).
  var scratchCount: Int { window * chunkRows * geometry.outputWidth }

  /// Floats of workspace for one group's `Im2ColOperand` (0 when it reads the image in place).
  var workspaceCount: Int { isPointwise ? 0 : Im2ColOperand.workspaceCount(for: groupGeometry) }

  /// Threads over images, and threads per GEMM: all to the images when there are at least
  /// as many images as threads, else all to the GEMMs.
  func threadSplit(_ threads: Int) -> (images: Int, gemm: Int) {
    let threads = max(1, threads)
    return batch >= threads ? (threads, 1) : (1, threads)
  }

  /// The channels of group `group` in image `n` of `input`.
  func inputImage(_ input: UnsafePointer<Float>, _ n: Int, _ group: Int) -> UnsafePointer<Float> {
    input + (n * inputChannels + group * groupChannels) * inputPlane
  }

  /// The filters of group `group`: `K/G x R`, row-major.
  func groupWeight(_ weight: UnsafePointer<Float>, _ group: Int) -> UnsafePointer<Float> {
    weight + group * groupOutputChannels * window
  }
}
