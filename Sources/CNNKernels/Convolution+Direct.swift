// Direct convolution for filters with few taps (R = C/G·KH·KW at most
// `ConvolutionPlan.directMaximumTaps`, stride 1): a network's first layer, where the image has
// one or three channels. im2col + GEMM would unroll every window into R rows (25 for
// SimpleConvNet's 1 → 30 5×5) for a GEMM only R deep, and spend as long packing as
// multiplying; `ccnn_conv_direct` reads the padded image in place instead, the output row in
// the vector lanes and nine accumulators over three filters × 24 columns, and gives the same
// bits (same order of the sums, same fused multiply-adds, bias last).
//
//   output[n, k, oh, ow] = (Σ over (ci, kh, kw) of weight[k, ci, kh, kw] · padded[n, ci, oh + kh, ow + kw]) + bias[k]
import CCNNKernels

extension ConvolutionPlan {
  /// Most taps per filter (C/G·KH·KW) that run direct: 3 channels of 5×5. On AMD EPYC Zen 3
  /// (2 threads), N100 C1→30 28² 5×5 forward ran at 102–116 GF/s direct against 50–62 with
  /// im2col + GEMM (PyTorch 63).
  static let directMaximumTaps = 75

  /// Whether the forward pass runs direct: stride 1, at most `directMaximumTaps` taps, rows of
  /// at least 8 outputs, not 1×1 (a plain GEMM), on a CPU with AVX2 and without AVX-512 (whose
  /// GEMM is twice as wide; not measured there). `CNN_CONV_DIRECT=0` turns it off.
  var suitsDirect: Bool {
    let g = geometry
    return Self.directAllowed && g.strideHeight == 1 && g.strideWidth == 1 && !isPointwise
      && window <= Self.directMaximumTaps && g.outputWidth >= 8 && ccnn_isa() == Int32(CCNN_ISA_AVX2)
  }

  /// `CNN_CONV_DIRECT=0` in the environment turns direct convolution off (to compare).
  static let directAllowed = environmentAllows("CNN_CONV_DIRECT")
}

/// The forward pass run direct: images over threads, or, with fewer images than threads,
/// each image's output rows over them.
func conv2DForwardDirect(
  plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, threads: Int
) {
  let split = plan.threadSplit(threads)
  parallelChunks(plan.batch, threads: split.images) { _, images in
    let workspace = FloatBuffer(count: plan.workspaceCount)
    defer { workspace.deallocate() }
    for n in images {
      convolveImageDirect(
        plan: plan, n: n, input: input, weight: weight, bias: bias,
        output: output + n * plan.outputChannels * plan.outputPlane, workspace: workspace.base, threads: split.gemm)
    }
  }
}

/// Image `n`'s `[K, OH, OW]` output into `output`, every group, direct; `workspace` holds
/// `plan.workspaceCount` floats (the padded copy of one group's channels), and `threads`
/// split the output rows.
func convolveImageDirect(
  plan: ConvolutionPlan, n: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>,
  threads: Int
) {
  let layout = Im2ColLayout(plan.groupGeometry)
  let g = plan.geometry
  for group in 0..<plan.groups {
    var source = plan.inputImage(input, n, group)
    if !layout.readsInPlace {
      layout.scatter(source, into: workspace, threads: threads)
      source = UnsafePointer(workspace)
    }
    let w = plan.groupWeight(weight, group)
    let b = bias.map { $0 + group * plan.groupOutputChannels }
    let y = output + group * plan.groupOutputChannels * plan.outputPlane
    let from = source
    parallelChunks(g.outputHeight, threads: threads) { _, rows in
      ccnn_conv_direct(
        from, plan.groupChannels, layout.channelStride, layout.rowStride, w, plan.groupOutputChannels,
        g.kernelHeight, g.kernelWidth, b, y, g.outputHeight, g.outputWidth, rows.lowerBound, rows.upperBound)
    }
  }
}
