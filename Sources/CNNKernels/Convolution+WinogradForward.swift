// The forward pass of a Winograd convolution (the algorithm is described in
// Convolution+Winograd.swift): the input transform into V, the GEMMs into M and the output
// transform, split over threads by blocks of tile rows or, for calls with few tiles, by filter
// panels.
import CCNNKernels

/// How `winogradForward` shares its work among threads.
enum WinogradSplit {
  /// Each thread takes blocks of tile rows and runs every filter panel over them.
  case tiles
  /// All the tiles form one block, transformed once; each thread takes filter panels. For calls
  /// with few tiles (one 14² or 28² image), where blocks of tile rows would leave each thread
  /// a fraction of a micro-kernel strip and every thread would read all of U.
  case panels

  /// `panels` when the whole batch's tiles fit one block of at most 64 tiles and 1.5 MB of V,
  /// there is more than one thread and there are at least two filter panels per thread;
  /// otherwise `tiles`.
  init(shape: WinogradShape, panels: Int, threads: Int) {
    let tiles = shape.batch * shape.tileRows * shape.tileColumns
    let fits = tiles <= 64 && shape.positions * shape.inputChannels * roundUp(tiles, to: 16) <= 3 << 17
    self = threads > 1 && fits && panels >= 2 * threads ? .panels : .tiles
  }
}

/// The forward pass: `output [N, K, OH, OW] = conv(input) + bias`, image n's input
/// `[C, H, W]` given by `image(n, scratch)` (`imageScratchCount` floats of scratch per thread).
/// `split` chooses how threads share the work (by default from the shape); every split gives
/// the same bits, since each output's sums run in the same order.
func winogradForward(
  shape: WinogradShape, filters: WinogradFilters, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, kernel: GEMMKernel = .current, threads: Int, imageScratchCount: Int = 0,
  split: WinogradSplit? = nil, image: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
) {
  let (channels, tileColumns) = (shape.inputChannels, shape.tileColumns)
  let (mr, nr, positions) = (kernel.mr, kernel.nr, shape.positions)
  precondition(filters.mr == mr, "Winograd filters packed for MR = \(filters.mr), kernel has \(mr)")
  precondition(
    filters.algorithm == shape.algorithm,
    "Winograd filters transformed for \(filters.algorithm), the shape runs \(shape.algorithm)")
  let split = split ?? WinogradSplit(shape: shape, panels: filters.panels, threads: threads)
  // V (16 · C · T floats) about 512 KB, so that it stays in L2 for the 16 · K/MR GEMMs; by
  // panels, one block of every tile row.
  let blocks =
    split == .panels
    ? WinogradBlocks(shape, rowsPerBlock: shape.batch * shape.tileRows)
    : WinogradBlocks(shape, columns: max(nr, min(512, (1 << 17) / (positions * channels))), threads: threads)
  let maxColumns = blocks.rowsPerBlock * tileColumns
  let maxStrips = (maxColumns + nr - 1) / nr
  // 4×4 and 8×8 maps: the block's images transformed 16 or 8 at a time (their tiles tile-major),
  // each image in its own slot of scratch.
  let scratchSlots = shape.transformsWholeImages ? blocks.rowsPerBlock / shape.tileRows : 1
  let pass = WinogradForwardPass(
    shape: shape, filters: filters, bias: bias, output: output, kernel: kernel, blocks: blocks, maxStrips: maxStrips)

  switch split {
  case .tiles:
    parallelChunks(blocks.count, threads: threads) { _, range in
      let v = FloatBuffer(count: positions * winogradStride(channels * maxStrips * nr))
      let m = FloatBuffer(count: positions * pass.mStride)
      let inputRows = WinogradRows(shape, tileRows: blocks.rowsPerBlock, gradient: false)
      let imageScratch = FloatBuffer(count: imageScratchCount * scratchSlots)
      defer {
        v.deallocate()
        m.deallocate()
        inputRows.deallocate()
        imageScratch.deallocate()
      }
      var cache = CachedImage()
      var images: [UnsafePointer<Float>] = []
      for block in range {
        let rows = blocks.rows(ofBlock: block)
        pass.transformInput(
          rows: rows, part: rows, into: v.base, inputRows: inputRows, imageScratch: imageScratch.base,
          imageScratchCount: imageScratchCount, cache: &cache, images: &images, image: image)
        pass.zeroTail(rows: rows, v: v.base)
        pass.multiply(rows: rows, panels: 0..<filters.panels, v: v.base, m: m.base)
      }
    }
  case .panels:
    let rows = blocks.rows(ofBlock: 0)
    let v = FloatBuffer(count: positions * winogradStride(channels * maxStrips * nr))
    defer { v.deallocate() }
    // The tile rows' transforms split over the threads too (whole images: on one thread),
    // each thread writing its own tiles' columns of V.
    let transformThreads = shape.transformsWholeImages ? 1 : threads
    parallelChunks(rows.count, threads: transformThreads) { _, part in
      let inputRows = WinogradRows(shape, tileRows: part.count, gradient: false)
      let imageScratch = FloatBuffer(count: imageScratchCount * scratchSlots)
      defer {
        inputRows.deallocate()
        imageScratch.deallocate()
      }
      var cache = CachedImage()
      var images: [UnsafePointer<Float>] = []
      let part = (rows.lowerBound + part.lowerBound)..<(rows.lowerBound + part.upperBound)
      pass.transformInput(
        rows: rows, part: part, into: v.base, inputRows: inputRows, imageScratch: imageScratch.base,
        imageScratchCount: imageScratchCount, cache: &cache, images: &images, image: image)
    }
    pass.zeroTail(rows: rows, v: v.base)
    parallelChunks(filters.panels, threads: threads) { _, panels in
      let m = FloatBuffer(count: positions * pass.mStride)
      defer { m.deallocate() }
      pass.multiply(rows: rows, panels: panels, v: v.base, m: m.base)
    }
  }
}

/// The two halves of the forward pass over one block of tile rows: the input transform into V,
/// then, per filter panel, the GEMMs into M and the output transform.
private struct WinogradForwardPass {
  let shape: WinogradShape
  let filters: WinogradFilters
  let bias: UnsafePointer<Float>?
  let output: UnsafeMutablePointer<Float>
  let kernel: GEMMKernel
  let blocks: WinogradBlocks
  /// Columns of M (the widest block's tiles, whole strips).
  let ldm: Int
  /// Floats between the positions' M matrices (MR rows each).
  let mStride: Int

  init(
    shape: WinogradShape, filters: WinogradFilters, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
    kernel: GEMMKernel, blocks: WinogradBlocks, maxStrips: Int
  ) {
    self.shape = shape
    self.filters = filters
    self.bias = bias
    self.output = output
    self.kernel = kernel
    self.blocks = blocks
    ldm = maxStrips * kernel.nr
    mStride = winogradStride(kernel.mr * ldm)
  }

  /// The distance between V's positions for a block of `columns` tiles.
  func vStride(columns: Int) -> Int {
    let strips = (columns + kernel.nr - 1) / kernel.nr
    return winogradStride(strips * shape.inputChannels * kernel.nr)
  }

  /// V[ξ] of the tile rows `part` of the block of tile rows `rows`, into strips: tile q of the
  /// block, channel c → `v[((ξ·S + q/NR)·C + c)·NR + q%NR]`. Whole images transform the whole
  /// block (`part` must be `rows`).
  func transformInput(
    rows: Range<Int>, part: Range<Int>, into v: UnsafeMutablePointer<Float>, inputRows: WinogradRows,
    imageScratch: UnsafeMutablePointer<Float>, imageScratchCount: Int, cache: inout CachedImage,
    images: inout [UnsafePointer<Float>], image: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
  ) {
    let (channels, nr, tileColumns) = (shape.inputChannels, kernel.nr, shape.tileColumns)
    let stripSize = channels * nr
    let vStride = vStride(columns: rows.count * tileColumns)
    if shape.transformsWholeImages {
      precondition(part == rows, "whole-image transforms take the whole block")
      let blockImages = blocks.images(rows, tileRows: shape.tileRows)
      images.removeAll(keepingCapacity: true)
      for (slot, n) in blockImages.enumerated() {
        images.append(image(n, imageScratch + slot * imageScratchCount))
      }
      ccnn_winograd4_input_images(
        images, images.count, shape.height, channels, shape.padTop, shape.padLeft, v, nr, vStride, 0, nr, stripSize)
      return
    }
    let offset = (part.lowerBound - rows.lowerBound) * tileColumns
    for run in blocks.imageRuns(part, tileRows: shape.tileRows) {
      inputRows.transformInput(
        image: cache.image(run.image, scratch: imageScratch, image), shape: shape, tileRows: run.tileRows,
        first: offset + run.localRows.lowerBound * tileColumns, into: v, channelStep: nr, stride: vStride, nr: nr,
        strip: stripSize)
    }
  }

  /// Zeros V's columns past the block's last tile, in its last strip.
  func zeroTail(rows: Range<Int>, v: UnsafeMutablePointer<Float>) {
    let (channels, nr) = (shape.inputChannels, kernel.nr)
    let columns = rows.count * shape.tileColumns
    let strips = (columns + nr - 1) / nr
    let vStride = vStride(columns: columns)
    let tail = columns % nr
    if tail == 0 { return }
    for xi in 0..<shape.positions {
      for c in 0..<channels {
        (v + xi * vStride + ((strips - 1) * channels + c) * nr + tail).update(repeating: 0, count: nr - tail)
      }
    }
  }

  /// For each filter panel in `panels`: `M[ξ] (MR × T) = U[ξ] · V[ξ]` for the block's tile rows
  /// `rows`, then `Y = Aᵀ M A` (+ bias) for those MR channels while M is still in L1.
  func multiply(rows: Range<Int>, panels: Range<Int>, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
    let (channels, outputs, tileColumns) = (shape.inputChannels, shape.outputChannels, shape.tileColumns)
    let (mr, nr) = (kernel.mr, kernel.nr)
    let micro = kernel.microKernel
    let outputPlane = shape.outputHeight * shape.outputWidth
    let columns = rows.count * tileColumns
    let strips = (columns + nr - 1) / nr
    let stripSize = channels * nr
    let vStride = vStride(columns: columns)
    let runs = blocks.imageRuns(rows, tileRows: shape.tileRows)
    let blockImages = blocks.images(rows, tileRows: shape.tileRows)
    for panel in panels {
      let k0 = panel * mr, panelRows = min(mr, outputs - k0)
      for xi in 0..<shape.positions {
        let a = filters.panel(xi, panel)
        let product = m + xi * mStride
        for s in 0..<strips {
          micro(
            channels, a, UnsafePointer(v + xi * vStride + s * stripSize), product + s * nr, ldm, panelRows,
            min(nr, columns - s * nr), 1, 0)
        }
      }
      if shape.transformsWholeImages {
        ccnn_winograd4_output_images(
          m, mStride, ldm, panelRows, blockImages.count, shape.outputHeight, bias.map { $0 + k0 },
          output + (blockImages.lowerBound * outputs + k0) * outputPlane, outputs * outputPlane)
        continue
      }
      for r in 0..<panelRows {
        let k = k0 + r
        for run in runs {
          winogradOutputTransform(
            m + r * ldm + run.localRows.lowerBound * tileColumns, mStride: mStride, bias: bias?[k] ?? 0,
            tileRows: run.tileRows, shape: shape, output: output + (run.image * outputs + k) * outputPlane)
        }
      }
    }
  }
}
