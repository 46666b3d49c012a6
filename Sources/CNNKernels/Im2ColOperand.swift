// Implicit im2col: one image's sliding windows presented to `gemm` as its right operand B,
// packed straight from the input, so the unrolled matrix never exists in memory.
//
// For one image `[C, H, W]`, B is `(C*KH*KW) x (OH*OW)`: row `r = (c, kh, kw)`, column
// `j = (oh, ow)`, and
//
//   B[r, j] = input[c, oh*SH - PT + kh, ow*SW - PL + kw]     (0 outside the input)
//
// so that one image's convolution is `output (K x OH*OW) = weight (K x C*KH*KW) * B`.
// B is the transpose of that image's block of the seeds' im2col matrix (see Im2Col.swift).
//
// Making every copy contiguous. The operands read a "source" copy of the image that is
// zero-padded (Hp = H + PT + PB rows, Wp = W + PL + PR columns) and whose rows are split into
// SW phases: phase q of a padded row holds its columns q, q + SW, q + 2*SW, ... (Wq = ceil(Wp/SW)
// of them). Then
//
//   B[(c, kh, kw), (oh, ow)] = source[c, oh*SH + kh, kw % SW, kw / SW + ow]
//
// so a run of consecutive ow is a contiguous copy for every stride, with no bounds checks:
// padding is already zeros. The source costs one pass over the image (C*Hp*Wp floats, KH*KW
// times fewer than B) and is the image itself when there is no padding and SW = 1.
// col2im runs the same way backwards: rows of B are added into a source-shaped buffer (again
// contiguously), which is then folded back into the image (`Im2ColLayout.gather`).

import CCNNKernels

/// One image's unrolled windows as the matrix B of shape `(C*KH*KW) x (OH*OW)`, packed
/// straight from the input for `gemm` (implicit im2col).
///
/// `B[(c, kh, kw), (oh, ow)] = image[c, oh*SH - PT + kh, ow*SW - PL + kw]`, zero where that
/// falls in the padding. Only `geometry.inputChannels`, the spatial sizes, kernel, stride
/// and padding are used; `geometry.batch` is ignored (the operand is one image).
///
/// With padding or a column stride above 1, the operand reads a padded, phase-split copy of
/// the image that `init` writes into `workspace` (`workspaceCount(for:)` floats); the
/// workspace must outlive the operand's use and not be shared with a concurrent operand.
public struct Im2ColOperand: GEMMRightOperand {
  /// The window geometry (its `inputChannels` is C of this operand).
  public let geometry: ConvGeometry
  /// `C*KH*KW`.
  public let rows: Int
  /// `OH*OW`, times the number of images for a batch operand.
  public let columns: Int
  /// Where B's rows live in `source`.
  let layout: Im2ColLayout
  /// The padded, phase-split image (or the image itself); for a batch operand, the first
  /// image's, the others following every `imageStride` floats.
  let source: UnsafePointer<Float>
  /// Floats between consecutive images in `source` (0 for a one-image operand).
  let imageStride: Int

  /// Floats of workspace `init` needs for `geometry`: 0 when the image can be read in place
  /// (no padding and column stride 1), else `C * Hp * SW * ceil(Wp / SW)`.
  public static func workspaceCount(for geometry: ConvGeometry) -> Int {
    Im2ColLayout(geometry).workspaceCount
  }

  /// Presents `image` (`[C, H, W]`, with C = `geometry.inputChannels`) as B, first writing
  /// its padded, phase-split copy into `workspace` when `workspaceCount(for:)` is not 0.
  /// `threads` split the copy into the workspace (pass the GEMM's thread count).
  public init(
    image: UnsafePointer<Float>, geometry: ConvGeometry, workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
  ) {
    self.init(images: image, count: 1, imageStride: 0, geometry: geometry, workspace: workspace, threads: threads)
  }

  /// Floats of workspace the batch `init` needs for `count` images: `count` times
  /// `workspaceCount(for:)`.
  public static func workspaceCount(for geometry: ConvGeometry, images count: Int) -> Int {
    count * Im2ColLayout(geometry).workspaceCount
  }

  /// Presents `count` images side by side as one matrix B of shape
  /// `(C*KH*KW) x (count*OH*OW)`: column `j = (n, oh, ow)` is window `(oh, ow)` of image `n`,
  /// which starts at `images + n*imageStride` (`[C, H, W]`, C = `geometry.inputChannels`;
  /// `imageStride` may exceed `C*H*W`, e.g. for one group's channels of a batch).
  /// With padding or a column stride above 1, each image's padded, phase-split copy goes into
  /// `workspace` (`workspaceCount(for:images:)` floats).
  public init(
    images: UnsafePointer<Float>, count: Int, imageStride: Int, geometry: ConvGeometry,
    workspace: UnsafeMutablePointer<Float>?, threads: Int = 1
  ) {
    precondition(count >= 1, "Im2ColOperand: at least one image, got \(count)")
    self.geometry = geometry
    rows = geometry.windowSize
    columns = count * geometry.outputPlaneSize
    layout = Im2ColLayout(geometry)
    if layout.readsInPlace {
      source = images
      self.imageStride = imageStride
      return
    }
    guard let workspace else {
      preconditionFailure("Im2ColOperand: \(geometry) needs a workspace of \(count * layout.workspaceCount) floats")
    }
    for n in 0..<count {
      layout.scatter(images + n * imageStride, into: workspace + n * layout.workspaceCount, threads: threads)
    }
    source = UnsafePointer(workspace)
    self.imageStride = layout.workspaceCount
  }

  /// Packs `B[k0 ..< k0 + kc, j0 ..< j0 + nc]` into `nr`-column strips (see
  /// `GEMMRightOperand.pack`): `panel[(s*kc + r)*nr + t] = B[k0 + r, j0 + s*nr + t]`.
  ///
  /// Per strip, the columns are split once into runs that stay on one output row; then each
  /// of the `kc` rows copies those runs, contiguously, from the source. No divisions and no
  /// bounds checks in the inner loops.
  public func pack(into panel: UnsafeMutablePointer<Float>, k0: Int, kc: Int, j0: Int, nc: Int, nr: Int) {
    let outputWidth = geometry.outputWidth
    let window = layout.window
    let outputRowStride = layout.outputRowStride
    let channelStride = layout.channelStride
    let source = source
    layout.withKernelOffsets { offsets in
      withUnsafeTemporaryAllocation(of: WindowRun.self, capacity: nr + 1) { runBuffer in
        guard let runs = runBuffer.baseAddress else { return }
        let outputHeight = geometry.outputHeight, plane = geometry.outputPlaneSize
        let imageStride = imageStride
        let firstImage = j0 / plane
        var imageBase = firstImage * imageStride
        var oh = (j0 - firstImage * plane) / outputWidth
        var ow = j0 - firstImage * plane - oh * outputWidth
        var col = 0
        var strip = panel
        let c0 = k0 / window
        let i0 = k0 - c0 * window
        while col < nc {
          let stripWidth = min(nr, nc - col)
          // Split the strip's columns into runs on one output row each.
          var runCount = 0
          var t = 0
          while t < stripWidth {
            let length = min(outputWidth - ow, stripWidth - t)
            runs[runCount] = WindowRun(source: imageBase + oh * outputRowStride + ow, count: length, offset: t)
            runCount += 1
            t += length
            ow += length
            if ow == outputWidth {
              ow = 0
              oh += 1
              if oh == outputHeight {
                oh = 0
                imageBase += imageStride
              }
            }
          }
          // Copy the runs for every row r = (c, kh, kw) of the block: (c, i) with i = kh*KW + kw.
          var channel = source + c0 * channelStride
          var i = i0
          var dst = strip
          if runCount == 1 && stripWidth == nr {
            // One full-width run: the common case for wide outputs.
            var from = channel + runs[0].source
            for _ in 0..<kc {
              copyFloats(from: from + offsets[i], to: dst, count: nr)
              dst += nr
              i += 1
              if i == window {
                i = 0
                from += channelStride
              }
            }
          } else {
            for _ in 0..<kc {
              let base = channel + offsets[i]
              for q in 0..<runCount {
                let run = runs[q]
                copyFloats(from: base + run.source, to: dst + run.offset, count: run.count)
              }
              if stripWidth < nr { fillZero(dst + stripWidth, count: nr - stripWidth) }
              dst += nr
              i += 1
              if i == window {
                i = 0
                channel += channelStride
              }
            }
          }
          strip += kc * nr
          col += nr
        }
      }
    }
  }
}

// MARK: - The transposed operand

/// B^T of an `Im2ColOperand`: the `(OH*OW) x (C*KH*KW)` matrix (the seeds' im2col matrix of
/// one image; `(N*OH*OW) x (C*KH*KW)` for a batch operand), packed straight from the operand's source, for `conv2DBackward`'s
/// `dW += dY * B^T` (the reduction runs over output positions).
///
/// Packing it is a transpose: for 8 consecutive rows `(c, kh, kw)` of B, 8 consecutive output
/// positions on one output row are 8 contiguous floats of the source, so the panel is built
/// from 8x8 (then 4x4) blocks transposed in registers; blocks that straddle two output rows
/// are gathered (`ccnn_pack_gathered_columns`).
struct Im2ColTransposedOperand: GEMMRightOperand {
  let operand: Im2ColOperand

  /// `OH*OW` (times the images of a batch operand).
  var rows: Int { operand.columns }
  /// `C*KH*KW`.
  var columns: Int { operand.rows }

  /// Packs `B^T[k0 ..< k0 + kc, j0 ..< j0 + nc]` into `nr`-column strips (see
  /// `GEMMRightOperand.pack`).
  func pack(into panel: UnsafeMutablePointer<Float>, k0: Int, kc: Int, j0: Int, nc: Int, nr: Int) {
    let layout = operand.layout
    let outputWidth = operand.geometry.outputWidth
    let window = layout.window
    let outputRowStride = layout.outputRowStride
    let channelStride = layout.channelStride
    let source = operand.source
    layout.withKernelOffsets { offsets in
      withUnsafeTemporaryAllocation(of: Int.self, capacity: kc + nr) { buffer in
        guard let positions = buffer.baseAddress else { return }
        let bases = positions + kc
        // positions[r]: where output position k0 + r (of image n) starts, relative to a row's base.
        let outputHeight = operand.geometry.outputHeight, plane = operand.geometry.outputPlaneSize
        let imageStride = operand.imageStride
        let firstImage = k0 / plane
        var imageBase = firstImage * imageStride
        var oh = (k0 - firstImage * plane) / outputWidth
        var ow = k0 - firstImage * plane - oh * outputWidth
        for r in 0..<kc {
          positions[r] = imageBase + oh * outputRowStride + ow
          ow += 1
          if ow == outputWidth {
            ow = 0
            oh += 1
            if oh == outputHeight {
              oh = 0
              imageBase += imageStride
            }
          }
        }
        var c = j0 / window
        var i = j0 - c * window
        var strip = panel
        var col = 0
        while col < nc {
          let width = min(nr, nc - col)
          // bases[t]: where row (c, kh, kw) = j0 + col + t of B starts in the source.
          for t in 0..<width {
            bases[t] = c * channelStride + offsets[i]
            i += 1
            if i == window {
              i = 0
              c += 1
            }
          }
          ccnn_pack_gathered_columns(source, bases, width, positions, kc, strip, nr)
          strip += kc * nr
          col += nr
        }
      }
    }
  }
}

// MARK: - col2im for one image

/// Adds rows of B back into a source-shaped buffer (the adjoint of packing B):
/// `source[c, oh*SH + kh, kw % SW, kw / SW + ow] += columns[r, j]` for every row
/// `r = (c, kh, kw)` with c in `channels` and every column `j = (oh, ow)` with oh in
/// `outputRows`. Each row of B adds contiguously, whatever the stride.
///
/// `columns` is row-major with leading dimension `leadingDimension`; its row 0 is B's row
/// `channels.lowerBound*KH*KW`, its column 0 is output row `outputRows.lowerBound`. Only the
/// channels in `channels` are written, so disjoint channel ranges may be folded concurrently.
/// `Im2ColLayout.gather` then moves `source` into the image (dropping the padding); when the
/// layout reads in place, `source` is the image itself.
func foldWindows(
  columns: UnsafePointer<Float>, leadingDimension: Int, channels: Range<Int>, outputRows: Range<Int>,
  layout: Im2ColLayout, into source: UnsafeMutablePointer<Float>
) {
  let outputWidth = layout.geometry.outputWidth
  let outputRowStride = layout.outputRowStride
  layout.withKernelOffsets { offsets in
    var src = columns
    for c in channels {
      let channel = source + c * layout.channelStride + outputRows.lowerBound * outputRowStride
      for i in 0..<layout.window {
        var dst = channel + offsets[i]
        var run = src
        for _ in outputRows {
          addFloats(from: run, to: dst, count: outputWidth)
          dst += outputRowStride
          run += outputWidth
        }
        src += leadingDimension
      }
    }
  }
}

// MARK: - Helpers

/// A run of consecutive B columns on one output row: `count` columns whose first element is
/// at `source` past a row's base in the operand's source, stored from `offset` in the strip.
struct WindowRun {
  var source: Int
  var count: Int
  var offset: Int
}
