// 2-D convolution over NCHW batches (cross-correlation, as in the seeds and every CNN
// library), forward above backward. The direct-loop references are in Convolution+Naive.swift.
//
//   input [N, C, H, W], weight [K, C/G, KH, KW], bias [K], output [N, K, OH, OW], G = groups
//   output[n, k, oh, ow] = bias[k] + sum over (ci, kh, kw) of
//     weight[k, ci, kh, kw] * input[n, g*C/G + ci, oh*SH - PT + kh, ow*SW - PL + kw]
//   with g = k / (K/G), and zero input in the padding.
//
// The fast path is im2col + GEMM, per image n and group g. With P = OH*OW, Cg = C/G,
// Kg = K/G and R = Cg*KH*KW, and B the image's unrolled windows (R x P, Im2ColOperand.swift),
// never materialised:
//
//   forward   Y (Kg x P)    = W (Kg x R) * B          B packed straight from the input
//   backward  dW (Kg x R)  += dY (Kg x P) * B^T       B^T packed straight from the input
//             dX (Cg x H*W) = W' * im2col(dY)         stride 1: a convolution of dY with the
//                                                     flipped filters W', padding KH - 1 - P
//             dX = col2im(W^T * dY)                   strides above 1: by chunks of output rows
//             dBias[k]     += sum over n and p of dY[n, k, p]
//
// 1x1 kernels with stride 1 and no padding need no im2col: B is the image itself (Cg x H*W).
// Images are split over threads (each GEMM single-threaded); when there are fewer images than
// threads, the images run one after another and each GEMM gets all the threads.
//
// Small output maps (P = OH*OW below `ConvolutionPlan.blockColumns`) give GEMMs too narrow for
// the micro-kernel's tiles, so the images are taken in blocks of Nb instead, each block one
// GEMM with Nb*P columns (the seeds' batch-wide im2col, Convolution+Batched.swift):
//
//   forward   Y (Kg x Nb*P) = W * B_batch, then scattered to [N, K, OH, OW]
//   backward  dW += dY (Kg x Nb*P) * B_batch^T,  dX as above with Nb*P (or Nb*H*W) columns
//
// `ConvolutionPlan.schedule(threads:)` picks Nb from the shape and the thread count
// (Nb = 1 is the per-image path).
//
// At most four output positions per image (OH·OW ≤ 4, one group) run as one GEMM per
// position over the window's taps that fall inside the image, without the padding's
// (Convolution+FewPositions.swift). Larger maps with 3×3 or 5×5 filters, stride 1 and enough
// channels run as Winograd F(4×4, 3×3) (F(2×2, 3×3) for the backward passes on maps wider
// than 16) or F(2×2, 5×5), with 4×, 2.25× or 2.78× fewer multiplications
// (Convolution+Winograd.swift). Filters of at most 75 taps (C/G·KH·KW) with stride 1, a
// network's first layer, run direct, with no im2col (Convolution+Direct.swift).

/// Applies a 2-D convolution (with optional bias and channel groups) to an NCHW batch.
///
/// Shape: input `[N, C, H, W]`, weight `[K, C/G, KH, KW]`, bias `[K]` -> output `[N, K, OH, OW]`,
/// where `OH = (H + PT + PB - KH) / SH + 1` (floor), and likewise for `OW` (`ConvGeometry`).
/// `output[n, k, oh, ow] = bias[k] + sum_(ci, kh, kw) weight[k, ci, kh, kw] *
/// input[n, g*C/G + ci, oh*SH - PT + kh, ow*SW - PL + kw]`, `g = k / (K/G)`, zero padding.
///
/// - Parameters:
///   - input: The batch `[N, C, H, W]`.
///   - weight: The filters `[K, C/G, KH, KW]`.
///   - bias: One value per filter `[K]`, or `nil` for none.
///   - output: Receives `[N, K, OH, OW]` (overwritten).
///   - geometry: N, C, H, W, kernel, stride and padding.
///   - outputChannels: K, the number of filters.
///   - groups: G; C and K must be multiples of it. Group g sees channels `g*C/G ..< (g+1)*C/G`.
///   - threads: Threads to use.
///   - prepared: Where to keep filters transformed for this weight across calls (inference
///     with the same weights, see `PreparedFilters`), or `nil` to transform them per call.
/// - Complexity: O(N * K * C/G * KH * KW * OH * OW).
public func conv2DForward(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, geometry: ConvGeometry, outputChannels: Int, groups: Int = 1,
  threads: Int = ComputeThreads.count, prepared: PreparedFilters? = nil
) {
  let plan = ConvolutionPlan(geometry, outputChannels: outputChannels, groups: groups, caller: "conv2DForward")
  let kernel = GEMMKernel.current
  if let prepared, !plan.usesWinograd, !plan.runsAtFewPositions, plan.suitsPreparedWinograd(columnsPerStrip: kernel.nr) {
    let shape = plan.winogradShape
    let prepared = prepared.winogradFilters(plan: plan, weight: weight, mr: kernel.mr, threads: threads)
    // Kept alive until the pass is done: `removeAll` or a new version may drop it meanwhile.
    return withExtendedLifetime(prepared) {
      winogradForward(
        shape: shape, filters: prepared.filters, bias: bias, output: output, kernel: kernel, threads: threads
      ) { n, _ in input + n * shape.imageSize }
    }
  }
  if let prepared, plan.suitsPackedWeight {
    let packed = prepared.packedWeight(plan: plan, weight: weight, kernel: kernel)
    return withExtendedLifetime(packed) {
      conv2DForward(
        plan: plan, schedule: plan.schedule(threads: threads), input: input, weight: weight, bias: bias,
        output: output, packedWeight: packed)
    }
  }
  conv2DForward(
    plan: plan, schedule: plan.schedule(threads: threads), input: input, weight: weight, bias: bias, output: output)
}

extension ConvolutionPlan {
  /// Whether the forward pass multiplies the filters as a GEMM's A (im2col or pointwise, one
  /// group) in calls of fewer than 4096 output positions, where packing A each call shows:
  /// about 7 % of resnet101's inference at 224², batch 1, where 1×1 filters meet 7² to 56² maps.
  var suitsPackedWeight: Bool {
    !runsAtFewPositions && !usesWinograd && !usesDirect && groups == 1 && batch * outputPlane < 4096
  }

  /// `C = W_g · B` for group `group`'s filters (`Kg × R`), from `packed` when given (one group).
  func multiplyFilters<B: GEMMRightOperand>(
    _ weight: UnsafePointer<Float>, group: Int, packed: PackedLeftOperand?, by b: B, into c: UnsafeMutablePointer<Float>,
    ldc: Int, threads: Int
  ) {
    if let packed {
      precondition(groups == 1, "packed filters are for one group")
      gemm(packedA: packed, b: b, c: c, ldc: ldc, threads: threads)
    } else {
      gemm(m: groupOutputChannels, a: groupWeight(weight, group), lda: window, b: b, c: c, ldc: ldc, threads: threads)
    }
  }
}

/// `conv2DForward` with a given schedule (the tests run every schedule).
func conv2DForward(
  plan: ConvolutionPlan, schedule: ConvolutionSchedule, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, packedWeight: PackedLeftOperand? = nil
) {
  if plan.runsAtFewPositions {
    return convolveAtFewPositions(
      plan: plan, input: input, weight: weight, bias: bias, output: output,
      threads: schedule.blockThreads * schedule.gemmThreads)
  }
  if plan.usesWinograd {
    return conv2DForwardWinograd(
      plan: plan, input: input, weight: weight, bias: bias, output: output,
      threads: schedule.blockThreads * schedule.gemmThreads)
  }
  if plan.usesDirect {
    return conv2DForwardDirect(
      plan: plan, input: input, weight: weight, bias: bias, output: output,
      threads: schedule.blockThreads * schedule.gemmThreads)
  }
  let nb = schedule.imagesPerBlock
  parallelChunks(schedule.blockCount, threads: schedule.blockThreads) { _, blocks in
    let workspace = FloatBuffer(count: nb == 1 ? plan.workspaceCount : plan.blockWorkspaceCount(images: nb))
    let product = FloatBuffer(count: nb == 1 ? 0 : plan.groupOutputChannels * nb * plan.outputPlane)
    defer {
      workspace.deallocate()
      product.deallocate()
    }
    for block in blocks {
      let images = schedule.images(ofBlock: block, batch: plan.batch)
      if images.count == 1 {
        let n = images.lowerBound
        convolveImage(
          plan: plan, n: n, input: input, weight: weight, bias: bias,
          output: output + n * plan.outputChannels * plan.outputPlane, workspace: workspace.base,
          threads: schedule.gemmThreads, packedWeight: packedWeight)
      } else {
        convolveBlock(
          plan: plan, images: images, input: input, weight: weight, bias: bias, output: output,
          workspace: workspace.base, product: product.base, threads: schedule.gemmThreads, packedWeight: packedWeight)
      }
    }
  }
}

/// The forward pass of image `n`: its `[K, OH, OW]` output into `output`, every group.
func convolveImage(
  plan: ConvolutionPlan, n: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>,
  threads: Int, packedWeight: PackedLeftOperand? = nil
) {
  if plan.usesDirect {
    return convolveImageDirect(
      plan: plan, n: n, input: input, weight: weight, bias: bias, output: output, workspace: workspace,
      threads: threads)
  }
  for group in 0..<plan.groups {
    let x = plan.inputImage(input, n, group)
    let y = output + group * plan.groupOutputChannels * plan.outputPlane
    if plan.isPointwise {
      let b = StridedMatrix(x, rows: plan.groupChannels, columns: plan.outputPlane, leadingDimension: plan.inputPlane)
      plan.multiplyFilters(weight, group: group, packed: packedWeight, by: b, into: y, ldc: plan.outputPlane, threads: threads)
    } else {
      let b = Im2ColOperand(image: x, geometry: plan.groupGeometry, workspace: workspace, threads: threads)
      plan.multiplyFilters(weight, group: group, packed: packedWeight, by: b, into: y, ldc: plan.outputPlane, threads: threads)
    }
    if let bias {
      for k in 0..<plan.groupOutputChannels {
        let value = bias[group * plan.groupOutputChannels + k]
        let row = y + k * plan.outputPlane
        for p in 0..<plan.outputPlane { row[p] += value }
      }
    }
  }
}
