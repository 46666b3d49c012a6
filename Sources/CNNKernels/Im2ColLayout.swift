// The padded, stride-phase-split copy of one image that im2col operands read rows from.

// MARK: - The source layout

/// Where B's rows live in the operands' padded, phase-split source (see the top of Im2ColOperand.swift):
/// `B[(c, kh, kw), (oh, ow)] = source[c*channelStride + offsets[kh*KW + kw] + oh*outputRowStride + ow]`.
struct Im2ColLayout {
  let geometry: ConvGeometry
  /// No padding and SW = 1: the source is the image itself.
  let readsInPlace: Bool
  /// `KH*KW`.
  let window: Int
  /// `Hp = H + PT + PB`.
  let paddedHeight: Int
  /// Floats per phase row: `Wq = ceil(Wp / SW)` (or W in place).
  let phaseWidth: Int
  /// Floats per padded input row: `SW * Wq`.
  let rowStride: Int
  /// Floats per channel: `Hp * SW * Wq`.
  let channelStride: Int
  /// Floats between output rows `oh` and `oh + 1` of one row of B: `SH * SW * Wq`.
  let outputRowStride: Int

  init(_ g: ConvGeometry) {
    geometry = g
    readsInPlace =
      g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0 && g.strideWidth == 1
    window = g.kernelHeight * g.kernelWidth
    paddedHeight = g.inputHeight + g.padTop + g.padBottom
    if readsInPlace {
      phaseWidth = g.inputWidth
    } else {
      phaseWidth = (g.inputWidth + g.padLeft + g.padRight + g.strideWidth - 1) / g.strideWidth
    }
    rowStride = g.strideWidth * phaseWidth
    channelStride = paddedHeight * rowStride
    outputRowStride = g.strideHeight * rowStride
  }

  /// Floats of a separate source: 0 when reading in place.
  var workspaceCount: Int { readsInPlace ? 0 : geometry.inputChannels * channelStride }

  /// Writes the padded, phase-split copy of `image` (`[C, H, W]`) into `source`
  /// (`workspaceCount` floats): `source[c, ih + PT, (iw + PL) % SW, (iw + PL) / SW] =
  /// image[c, ih, iw]`, and zero at every other position. With `threads` above 1 the channels
  /// are split among that many threads (one image at batch 1 would otherwise copy alone while
  /// the GEMM's other threads wait).
  func scatter(_ image: UnsafePointer<Float>, into source: UnsafeMutablePointer<Float>, threads: Int = 1) {
    let channels = geometry.inputChannels
    // Below about 32 K floats a copy is quicker than waking a thread.
    let workers = min(threads, max(1, channels * channelStride / (1 << 15)))
    parallelChunks(channels, threads: workers) { _, range in
      scatter(image, into: source, channels: range)
    }
  }

  /// `scatter` for the channels in `channels` alone.
  private func scatter(_ image: UnsafePointer<Float>, into source: UnsafeMutablePointer<Float>, channels: Range<Int>) {
    let g = geometry
    let stride = g.strideWidth, width = g.inputWidth
    var dst = source + channels.lowerBound * channelStride
    for c in channels {
      for paddedRow in 0..<paddedHeight {
        let ih = paddedRow - g.padTop
        if ih < 0 || ih >= g.inputHeight {
          fillZero(dst, count: rowStride)
        } else {
          let row = image + (c * g.inputHeight + ih) * width
          if stride == 1 {
            fillZero(dst, count: g.padLeft)
            copyFloats(from: row, to: dst + g.padLeft, count: width)
            fillZero(dst + g.padLeft + width, count: phaseWidth - g.padLeft - width)
          } else {
            for phase in 0..<stride {
              let out = dst + phase * phaseWidth
              for t in 0..<phaseWidth {
                let iw = t * stride + phase - g.padLeft
                out[t] = iw >= 0 && iw < width ? row[iw] : 0
              }
            }
          }
        }
        dst += rowStride
      }
    }
  }

  /// The adjoint of `scatter`: `image[c, ih, iw] = source[c, ih + PT, (iw + PL) % SW,
  /// (iw + PL) / SW]` for the channels in `channels` (overwritten); padding positions of
  /// `source` are dropped.
  func gather(_ source: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, channels: Range<Int>) {
    let g = geometry
    let stride = g.strideWidth, width = g.inputWidth
    for c in channels {
      for ih in 0..<g.inputHeight {
        let src = source + c * channelStride + (ih + g.padTop) * rowStride
        let row = image + (c * g.inputHeight + ih) * width
        if stride == 1 {
          copyFloats(from: src + g.padLeft, to: row, count: width)
        } else {
          for iw in 0..<width {
            let paddedColumn = iw + g.padLeft
            row[iw] = src[(paddedColumn % stride) * phaseWidth + paddedColumn / stride]
          }
        }
      }
    }
  }

  /// Calls `body` with a stack table of the offsets in the source of `B[(0, kh, kw), (0, 0)]`,
  /// indexed by `kh*KW + kw` (row `(c, kh, kw)` starts `c * channelStride` further on).
  @inline(__always)
  func withKernelOffsets<R>(_ body: (UnsafeMutablePointer<Int>) -> R) -> R {
    let g = geometry
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: window) { buffer in
      guard let offsets = buffer.baseAddress else { preconditionFailure("empty kernel") }
      let stride = g.strideWidth
      for kh in 0..<g.kernelHeight {
        for kw in 0..<g.kernelWidth {
          offsets[kh * g.kernelWidth + kw] = kh * rowStride + (kw % stride) * phaseWidth + kw / stride
        }
      }
      return body(offsets)
    }
  }
}
