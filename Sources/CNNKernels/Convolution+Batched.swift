// Convolution of small output maps by image blocks: the seeds' batch-wide im2col, one GEMM
// for Nb images at once, so that the GEMM has Nb*OH*OW columns instead of OH*OW.
//
//   input [N, C, H, W], weight [K, C/G, KH, KW], output [N, K, OH, OW], P = OH*OW
//   B_batch (R x Nb*P): B_batch[(ci, kh, kw), (n, oh, ow)] = input[n, g*Cg + ci, oh*SH - PT + kh, ow*SW - PL + kw]
//
//   forward   Y' (Kg x Nb*P)   = W (Kg x R) * B_batch             then Y[n, k, p] = Y'[k, n*P + p] + bias[k]
//   backward  dY' (K x Nb*P)   = dY[n, k, p] gathered             (one copy of the block's dOutput)
//             dW (Kg x R)     += dY' (Kg x Nb*P) * B_batch^T
//             dBias[k]        += sum over the row k of dY'
//             dX, 1x1 s1 p0:    dX' (Cg x Nb*H*W) = W^T * dY'                  then scattered
//             dX, stride 1:     dX' (Cg x Nb*H*W) = flipped W * B_batch(dY)   then scattered
//             dX, otherwise:    dB (R x Nb*P) = W^T * dY', folded per image (col2im)
//
// B_batch is never materialised: `Im2ColOperand(images:count:imageStride:...)` packs it
// straight from the input (a 1x1, stride-1, unpadded convolution reads the input in place,
// a plain GEMM with no im2col). The per-image path (Convolution.swift) is the case Nb = 1.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a convolution call splits the batch: `blockCount` blocks of `imagesPerBlock` images
/// (the last ones possibly one smaller), `blockThreads` threads over the blocks and
/// `gemmThreads` threads inside each GEMM.
struct ConvolutionSchedule: Equatable, CustomStringConvertible {
  /// Nb: images per GEMM (1 is the per-image path).
  let imagesPerBlock: Int
  let blockCount: Int
  let blockThreads: Int
  let gemmThreads: Int

  /// `blocks` blocks of about `ceil(batch / blocks)` images, over `threads` threads.
  init(batch: Int, blocks: Int, threads: Int) {
    let threads = max(1, threads)
    let blocks = max(1, min(blocks, batch))
    blockCount = batch == 0 ? 0 : blocks
    imagesPerBlock = batch == 0 ? 1 : (batch + blocks - 1) / blocks
    (blockThreads, gemmThreads) = blocks >= threads ? (threads, 1) : (1, threads)
  }

  /// The images of block `block`: the batch split into `blockCount` near-equal ranges.
  func images(ofBlock block: Int, batch: Int) -> Range<Int> {
    (batch * block / blockCount)..<(batch * (block + 1) / blockCount)
  }

  var description: String { "\(blockCount) blocks of <= \(imagesPerBlock) images, threads \(blockThreads)x\(gemmThreads)" }
}

extension ConvolutionPlan {
  /// The GEMM width below which images are grouped: a block of images has at least this many
  /// output positions (`CNN_CONV_BLOCK_COLUMNS` in the environment overrides it; 0 turns
  /// blocking off).
  static let blockColumns: Int = {
    if let text = getenv("CNN_CONV_BLOCK_COLUMNS"), let value = Int(String(cString: text)), value >= 0 {
      return value
    }
    return 512
  }()

  /// The schedule for `threads` threads. Maps of at least `blockColumns` positions run image
  /// by image (Nb = 1, as before); smaller maps in blocks of `ceil(blockColumns / P)` images,
  /// but never fewer blocks than threads (when the batch allows), so every thread has work.
  func schedule(threads: Int) -> ConvolutionSchedule {
    schedule(threads: threads, blockColumns: Self.blockColumns)
  }

  /// The schedule for `threads` threads with blocks of at least `blockColumns` columns.
  func schedule(threads: Int, blockColumns: Int) -> ConvolutionSchedule {
    let threads = max(1, threads)
    let plane = max(1, outputPlane)
    if blockColumns <= plane || batch <= 1 {
      return ConvolutionSchedule(batch: batch, blocks: batch, threads: threads)
    }
    let wanted = (blockColumns + plane - 1) / plane  // images per block for blockColumns columns
    let blocks = max(min(threads, batch), (batch + wanted - 1) / wanted)
    return ConvolutionSchedule(batch: batch, blocks: blocks, threads: threads)
  }

  /// Floats of forward workspace for a block of `images` images (the operand's sources).
  func blockWorkspaceCount(images: Int) -> Int {
    isPointwise ? 0 : Im2ColOperand.workspaceCount(for: groupGeometry, images: images)
  }

  /// Floats of each per-thread backward buffer for blocks of `images` images (1: per image).
  func backwardBufferCounts(
    images: Int, dInput: Bool, dWeight: Bool, folds: Bool, transposed: Bool
  ) -> (scratch: Int, workspace: Int, outputWorkspace: Int, blockOutput: Int) {
    if images == 1 {
      return (
        folds ? scratchCount : 0, dWeight || folds ? workspaceCount : 0, transposed ? transposedWorkspaceCount : 0, 0
      )
    }
    let columns = images * outputPlane
    // dB (R x Nb*P) to fold, or dX' (Cg x Nb*H*W) to scatter.
    let scratch = folds ? window * columns : (dInput ? groupChannels * images * inputPlane : 0)
    let workspace = max(dWeight ? blockWorkspaceCount(images: images) : 0, folds ? workspaceCount : 0)
    let outputWorkspace = transposed ? images * transposedWorkspaceCount : 0
    return (scratch, workspace, outputWorkspace, 2 * outputChannels * columns)
  }
}

/// The forward pass of the images `images` (at least two) as one GEMM per group, into their
/// `[K, OH, OW]` outputs in `output` (the whole batch's). `workspace` holds
/// `plan.blockWorkspaceCount(images:)` floats, `product` `Kg * Nb * P`.
func convolveBlock(
  plan: ConvolutionPlan, images: Range<Int>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>,
  product: UnsafeMutablePointer<Float>, threads: Int, packedWeight: PackedLeftOperand? = nil
) {
  let kg = plan.groupOutputChannels, p = plan.outputPlane
  let columns = images.count * p
  for group in 0..<plan.groups {
    let b = Im2ColOperand(
      images: plan.inputImage(input, images.lowerBound, group), count: images.count,
      imageStride: plan.inputChannels * plan.inputPlane, geometry: plan.groupGeometry, workspace: workspace)
    plan.multiplyFilters(weight, group: group, packed: packedWeight, by: b, into: product, ldc: columns, threads: threads)
    // Y[n, g*Kg + k, p] = Y'[k, i*P + p] + bias.
    for (i, n) in images.enumerated() {
      let y = output + (n * plan.outputChannels + group * kg) * p
      for k in 0..<kg {
        let from = product + k * columns + i * p, to = y + k * p
        if let bias {
          let value = bias[group * kg + k]
          for q in 0..<p { to[q] = from[q] + value }
        } else {
          copyFloats(from: from, to: to, count: p)
        }
      }
    }
  }
}

/// The backward pass of the images `images` (at least two), every group, as GEMMs with
/// `Nb * P` columns: dBias and dWeight accumulated into the given per-thread buffers, dInput's
/// images overwritten. `dOutputImage(n)` is image n's dOutput `[K, OH, OW]`, read once.
func conv2DBackwardBlock(
  plan: ConvolutionPlan, images: Range<Int>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
  buffers: BackwardBuffers, threads: Int, dOutputImage: (_ n: Int) -> UnsafePointer<Float>
) {
  let kg = plan.groupOutputChannels, cg = plan.groupChannels, r = plan.window, p = plan.outputPlane
  let k = plan.outputChannels, m = images.count, columns = m * p
  // The block's dOutput image-major [Nb, K, P] (for the transposed convolution) and
  // channel-major [K, Nb*P] (the GEMMs' dY').
  let dyImages = buffers.blockOutput, dyRows = buffers.blockOutput + k * columns
  for (i, n) in images.enumerated() {
    let dy = dOutputImage(n)
    copyFloats(from: dy, to: dyImages + i * k * p, count: k * p)
    for channel in 0..<k { copyFloats(from: dy + channel * p, to: dyRows + channel * columns + i * p, count: p) }
  }
  if let dBias {
    for channel in 0..<k { dBias[channel] += sumFloats(dyRows + channel * columns, count: columns) }
  }

  for group in 0..<plan.groups {
    let w = plan.groupWeight(weight, group)
    let dy = dyRows + group * kg * columns
    if let dWeight {
      // dW (Kg x R) += dY' (Kg x Nb*P) * B_batch^T.
      let operand = Im2ColOperand(
        images: plan.inputImage(input, images.lowerBound, group), count: m,
        imageStride: plan.inputChannels * plan.inputPlane, geometry: plan.groupGeometry, workspace: buffers.workspace)
      gemm(
        m: kg, a: dy, lda: columns, b: Im2ColTransposedOperand(operand: operand), beta: 1, c: dWeight + group * kg * r,
        ldc: r, threads: threads)
    }
    guard let dInput else { continue }
    let dx = { (i: Int) in dInput + ((images.lowerBound + i) * plan.inputChannels + group * cg) * plan.inputPlane }

    if plan.isPointwise || plan.transposedGeometry != nil {
      // dX' (Cg x Nb*H*W), then dInput[n, g*Cg + c] = dX'[c, i*H*W ...].
      let inputColumns = m * plan.inputPlane
      let product = buffers.scratch
      if plan.isPointwise {
        gemm(
          transposeA: true, m: cg, n: columns, k: kg, a: w, lda: r, b: dy, ldb: columns, beta: 0, c: product,
          ldc: columns, threads: threads)
      } else if let flipped = buffers.flippedWeight, let transposed = plan.transposedGeometry {
        let b = Im2ColOperand(
          images: dyImages + group * kg * p, count: m, imageStride: k * p, geometry: transposed,
          workspace: buffers.outputWorkspace)
        gemm(
          m: cg, a: flipped + group * cg * transposed.windowSize, lda: transposed.windowSize, b: b, beta: 0,
          c: product, ldc: inputColumns, threads: threads)
      }
      for i in 0..<m {
        let to = dx(i)
        for c in 0..<cg {
          copyFloats(
            from: product + c * inputColumns + i * plan.inputPlane, to: to + c * plan.inputPlane, count: plan.inputPlane)
        }
      }
      continue
    }

    // col2im: dB (R x Nb*P) = W^T * dY', each image's columns folded into its dInput.
    gemm(
      transposeA: true, m: r, n: columns, k: kg, a: w, lda: r, b: dy, ldb: columns, beta: 0, c: buffers.scratch,
      ldc: columns, threads: threads)
    let layout = Im2ColLayout(plan.groupGeometry)
    let channelThreads = min(threads, cg)
    for i in 0..<m {
      let image = dx(i)
      let dSource = layout.readsInPlace ? image : buffers.workspace
      fillZero(dSource, count: cg * layout.channelStride)
      parallelChunks(cg, threads: channelThreads) { _, channels in
        foldWindows(
          columns: buffers.scratch + channels.lowerBound * layout.window * columns + i * p, leadingDimension: columns,
          channels: channels, outputRows: 0..<plan.geometry.outputHeight, layout: layout, into: dSource)
      }
      if !layout.readsInPlace {
        parallelChunks(cg, threads: channelThreads) { _, channels in
          layout.gather(dSource, into: image, channels: channels)
        }
      }
    }
  }
}
