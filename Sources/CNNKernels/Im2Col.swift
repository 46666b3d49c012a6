// im2col / col2im in the seeds' layout: each sliding window becomes one row of a matrix, so
// that a convolution is one matrix multiply (and col2im folds the rows back, adding where
// windows overlap).
//
//   input [N, C, H, W]  <->  columns (N*OH*OW) x (C*KH*KW)
//   row (n, oh, ow), column (c, kh, kw):
//   columns[(n, oh, ow), (c, kh, kw)] = input[n, c, oh*SH - PT + kh, ow*SW - PL + kw]  (0 in the padding)
//
// `conv2DForward` does not materialise this matrix: it packs the same windows straight from
// the input (Im2ColOperand.swift). These two functions are the explicit, seeds-shaped forms.

/// Unrolls every sliding window of an NCHW batch into one row of a matrix (the seeds' im2col).
///
/// Shape: input `[N, C, H, W]` -> columns `(N*OH*OW) x (C*KH*KW)`, row-major, where
/// `OH = (H + PT + PB - KH) / SH + 1` (floor), and likewise for `OW` (`ConvGeometry`).
/// Row `(n, oh, ow)`, column `(c, kh, kw)` holds `input[n, c, oh*SH - PT + kh, ow*SW - PL + kw]`,
/// or 0 where that position is in the zero padding.
///
/// - Parameters:
///   - input: The batch `[N, C, H, W]`.
///   - columns: Receives the `(N*OH*OW) x (C*KH*KW)` matrix (overwritten).
///   - geometry: Sizes, kernel, stride and padding.
///   - threads: Threads to split the rows over.
/// - Complexity: O(N * OH * OW * C * KH * KW).
public func im2col(
  input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
  threads: Int = ComputeThreads.count
) {
  precondition(g.validationError == nil, "im2col: \(g.validationError ?? "")")
  let outputHeight = g.outputHeight, outputWidth = g.outputWidth
  let window = g.windowSize
  let height = g.inputHeight, width = g.inputWidth
  parallelChunks(g.batch * outputHeight, threads: threads) { _, range in
    for row in range {
      let n = row / outputHeight, oh = row - n * outputHeight
      let image = input + n * g.inputChannels * g.inputPlaneSize
      var dst = columns + row * outputWidth * window
      for ow in 0..<outputWidth {
        for c in 0..<g.inputChannels {
          for kh in 0..<g.kernelHeight {
            let ih = oh * g.strideHeight - g.padTop + kh
            if ih < 0 || ih >= height {
              fillZero(dst, count: g.kernelWidth)
            } else {
              let inputRow = image + (c * height + ih) * width
              for kw in 0..<g.kernelWidth {
                let iw = ow * g.strideWidth - g.padLeft + kw
                dst[kw] = iw >= 0 && iw < width ? inputRow[iw] : 0
              }
            }
            dst += g.kernelWidth
          }
        }
      }
    }
  }
}

/// Folds an im2col matrix back into an NCHW batch, adding the values of overlapping windows
/// (the seeds' col2im; the adjoint of `im2col`). Values at padding positions are dropped.
///
/// Shape: columns `(N*OH*OW) x (C*KH*KW)` -> input `[N, C, H, W]`; layout as in `im2col`.
/// `input[n, c, ih, iw] = sum of columns[(n, oh, ow), (c, kh, kw)]` over all windows with
/// `oh*SH - PT + kh = ih` and `ow*SW - PL + kw = iw`.
///
/// - Parameters:
///   - columns: The `(N*OH*OW) x (C*KH*KW)` matrix (e.g. the gradient of im2col's output).
///   - input: Receives the batch `[N, C, H, W]` (overwritten: zeroed, then accumulated).
///   - geometry: Sizes, kernel, stride and padding.
///   - threads: Threads to split the images over.
/// - Complexity: O(N * OH * OW * C * KH * KW).
public func col2im(
  columns: UnsafePointer<Float>, input: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
  threads: Int = ComputeThreads.count
) {
  precondition(g.validationError == nil, "col2im: \(g.validationError ?? "")")
  let outputHeight = g.outputHeight, outputWidth = g.outputWidth
  let window = g.windowSize
  let height = g.inputHeight, width = g.inputWidth
  let imageSize = g.inputChannels * g.inputPlaneSize
  parallelChunks(g.batch, threads: threads) { _, range in
    for n in range {
      let image = input + n * imageSize
      fillZero(image, count: imageSize)
      var src = columns + n * outputHeight * outputWidth * window
      for oh in 0..<outputHeight {
        for ow in 0..<outputWidth {
          for c in 0..<g.inputChannels {
            for kh in 0..<g.kernelHeight {
              let ih = oh * g.strideHeight - g.padTop + kh
              if ih >= 0 && ih < height {
                let inputRow = image + (c * height + ih) * width
                for kw in 0..<g.kernelWidth {
                  let iw = ow * g.strideWidth - g.padLeft + kw
                  if iw >= 0 && iw < width { inputRow[iw] += src[kw] }
                }
              }
              src += g.kernelWidth
            }
          }
        }
      }
    }
  }
}
