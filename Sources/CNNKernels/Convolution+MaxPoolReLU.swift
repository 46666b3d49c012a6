// Convolution → 2×2 max-pooling → ReLU, image by image, so that each image's convolution
// output (for SimpleConvNet 30 × 24 × 24 floats, 69 KB) is pooled while it is still in cache
// instead of being written out for the whole batch (6.9 MB at batch 100) and read back.
// Small maps (those `conv2DForward` takes in blocks of images, and those it runs one output
// position at a time) are convolved for the whole batch that way and then pooled: image by
// image their GEMMs would be a few columns wide, and their outputs are small anyway.
//
// The results are those of `conv2DForward`, `pool2DForward(.max)` and `reluForward` run one
// after another, and of their backward passes, bit for bit: the same kernels run on the same
// values in the same order, only on one image at a time.

/// The pooling geometry of one image's convolution output `[1, K, OH, OW]`: 2×2, stride 2.
func maxPool2x2Geometry(after plan: ConvolutionPlan) -> ConvGeometry {
  ConvGeometry(
    batch: 1, inputChannels: plan.outputChannels, inputHeight: plan.geometry.outputHeight,
    inputWidth: plan.geometry.outputWidth, kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
}

/// `relu(maxPool2x2(conv2D(input)))` for a batch, with the pooling winners for the backward pass.
///
/// Shape: input `[N, C, H, W]`, weight `[K, C/G, KH, KW]`, bias `[K]` → pooled
/// `[N, K, ⌊OH/2⌋, ⌊OW/2⌋]`, where `OH × OW` is the convolution's output (see `conv2DForward`).
/// `pooled[n, k, i, j] = max(0, max over the 2×2 window (2i, 2j) of conv[n, k])`.
///
/// - Parameters:
///   - pooled: Receives `[N, K, PH, PW]` (overwritten).
///   - argIndex: Receives `[N, K, PH, PW]`: each window's largest value's offset `h·OW + w`
///     within its convolution plane, as `pool2DForward` writes it; `nil` to skip (inference).
///   - Others: as `conv2DForward`.
public func conv2DMaxPoolReLUForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  pooled: UnsafeMutablePointer<Float>, argIndex: UnsafeMutablePointer<Int32>?, geometry: ConvGeometry,
  outputChannels: Int, groups: Int = 1, threads: Int = ComputeThreads.count
) {
  let plan = ConvolutionPlan(geometry, outputChannels: outputChannels, groups: groups, caller: "conv2DMaxPoolReLUForward")
  let pool = maxPool2x2Geometry(after: plan)
  let pooledSize = plan.outputChannels * pool.outputPlaneSize
  let schedule = plan.schedule(threads: threads)
  if plan.runsAtFewPositions || plan.usesWinograd || schedule.imagesPerBlock > 1 {
    // Small maps: image by image each GEMM would be a few columns wide, so the batch is
    // convolved as `conv2DForward` does it (in blocks of images) and then pooled. The
    // batch's convolution output is small for the same reason. Winograd works on the whole
    // batch's tiles too.
    let convolved = FloatBuffer(count: plan.batch * plan.outputChannels * plan.outputPlane)
    defer { convolved.deallocate() }
    conv2DForward(plan: plan, schedule: schedule, input: input, weight: weight, bias: bias, output: convolved.base)
    var batchPool = pool
    batchPool.batch = plan.batch
    pool2DForward(input: convolved.base, output: pooled, geometry: batchPool, mode: .max, argIndex: argIndex, threads: threads)
    reluForward(pooled, pooled, count: plan.batch * pooledSize)
    return
  }
  let split = plan.threadSplit(threads)
  parallelChunks(plan.batch, threads: split.images) { _, images in
    let workspace = FloatBuffer(count: plan.workspaceCount)
    let convolved = FloatBuffer(count: plan.outputChannels * plan.outputPlane)
    defer {
      workspace.deallocate()
      convolved.deallocate()
    }
    for n in images {
      convolveImage(
        plan: plan, n: n, input: input, weight: weight, bias: bias, output: convolved.base,
        workspace: workspace.base, threads: split.gemm)
      let out = pooled + n * pooledSize
      pool2DForward(
        input: convolved.base, output: out, geometry: pool, mode: .max, argIndex: argIndex.map { $0 + n * pooledSize },
        threads: split.gemm)
      reluForward(out, out, count: pooledSize)
    }
  }
}

/// The gradients of `conv2DMaxPoolReLUForward` with respect to its input, weight and bias.
///
/// `dPooled` `[N, K, PH, PW]` → each image's convolution gradient `dConv[n, k, h, w]`: the
/// window's gradient where `argIndex` points, when the pooled value is positive (ReLU), and
/// zero elsewhere; then as `conv2DBackward` (dInput overwritten or skipped when `nil`, dWeight
/// and dBias accumulated).
///
/// - Parameters:
///   - pooled: The forward output `[N, K, PH, PW]` (its sign is ReLU's mask).
///   - argIndex: The forward winners `[N, K, PH, PW]`.
///   - dPooled: The gradient with respect to `pooled`.
///   - Others: as `conv2DBackward`.
public func conv2DMaxPoolReLUBackward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, pooled: UnsafePointer<Float>,
  argIndex: UnsafePointer<Int32>, dPooled: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?,
  dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?, geometry: ConvGeometry,
  outputChannels: Int, groups: Int = 1, threads: Int = ComputeThreads.count
) {
  let plan = ConvolutionPlan(geometry, outputChannels: outputChannels, groups: groups, caller: "conv2DMaxPoolReLUBackward")
  let pool = maxPool2x2Geometry(after: plan)
  let imageSize = plan.outputChannels * plan.outputPlane, pooledSize = plan.outputChannels * pool.outputPlaneSize
  let schedule = plan.schedule(threads: threads)
  // Per thread: the image's convolution gradient, then its ReLU-masked pooled gradient.
  conv2DBackward(
    plan: plan, schedule: schedule, input: input, weight: weight, dInput: dInput, dWeight: dWeight, dBias: dBias,
    imageScratchCount: imageSize + pooledSize
  ) { n, scratch in
    let masked = scratch + imageSize
    reluBackward(input: pooled + n * pooledSize, dOutput: dPooled + n * pooledSize, dInput: masked, count: pooledSize)
    pool2DBackward(
      dOutput: masked, dInput: scratch, geometry: pool, mode: .max, argIndex: argIndex + n * pooledSize,
      threads: schedule.gemmThreads)
    return UnsafePointer(scratch)
  }
}
