// Direct-loop reference pooling, forward above backward. Tests compare pool2DForward and
// pool2DBackward against these. The backward pass recomputes each window's winner from the
// input instead of reading an argIndex.
//
//   input [N, C, H, W], output [N, C, OH, OW]

/// Reference 2-D pooling by direct loops over every window position, padding included
/// (padding never wins max/min and counts as zero for average). Same result as
/// `pool2DForward`.
///
/// Shape: input `[N, C, H, W]` -> output `[N, C, OH, OW]`, where
/// `OH = (H + PT + PB - KH) / SH + 1` (floor), and likewise for `OW`.
///
/// - Parameters:
///   - input: The batch `[N, C, H, W]`.
///   - output: Receives `[N, C, OH, OW]` (overwritten).
///   - geometry: N, C, H, W, window, stride and padding.
///   - mode: `.max`, `.average` or `.min`.
/// - Complexity: O(N * C * OH * OW * KH * KW).
public func pool2DForwardNaive(
  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, mode: PoolingMode
) {
  checkPoolingGeometry(g, caller: "pool2DForwardNaive")
  for plane in 0..<(g.batch * g.inputChannels) {
    for oh in 0..<g.outputHeight {
      for ow in 0..<g.outputWidth {
        let (value, _) = naiveWindow(input, plane: plane, oh: oh, ow: ow, geometry: g, mode: mode)
        output[(plane * g.outputHeight + oh) * g.outputWidth + ow] = value
      }
    }
  }
}

/// Reference gradient of `pool2DForwardNaive` by direct loops; dInput is overwritten.
///
/// Shape: input `[N, C, H, W]`, dOutput `[N, C, OH, OW]` -> dInput `[N, C, H, W]`. Max and min
/// add each output gradient to the window's winner (first in scan order), recomputed from
/// `input`; average adds `dOutput / (KH*KW)` to each window position inside the input.
///
/// - Parameters:
///   - input: The forward input `[N, C, H, W]`.
///   - dOutput: `[N, C, OH, OW]`.
///   - dInput: Receives `[N, C, H, W]` (overwritten).
///   - geometry: As in the forward call.
///   - mode: As in the forward call.
/// - Complexity: O(N * C * OH * OW * KH * KW).
public func pool2DBackwardNaive(
  input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>,
  geometry g: ConvGeometry, mode: PoolingMode
) {
  checkPoolingGeometry(g, caller: "pool2DBackwardNaive")
  let height = g.inputHeight, width = g.inputWidth
  let count = Float(g.kernelHeight * g.kernelWidth)
  for i in 0..<(g.batch * g.inputChannels * height * width) { dInput[i] = 0 }
  for plane in 0..<(g.batch * g.inputChannels) {
    for oh in 0..<g.outputHeight {
      for ow in 0..<g.outputWidth {
        let dy = dOutput[(plane * g.outputHeight + oh) * g.outputWidth + ow]
        if mode == .average {
          for kh in 0..<g.kernelHeight {
            for kw in 0..<g.kernelWidth {
              let h = oh * g.strideHeight - g.padTop + kh
              let w = ow * g.strideWidth - g.padLeft + kw
              if h >= 0 && h < height && w >= 0 && w < width {
                dInput[(plane * height + h) * width + w] += dy / count
              }
            }
          }
        } else {
          let (_, winner) = naiveWindow(input, plane: plane, oh: oh, ow: ow, geometry: g, mode: mode)
          dInput[plane * height * width + winner] += dy
        }
      }
    }
  }
}

/// The pooled value of window `(oh, ow)` of plane `plane`, and for max/min the winner's
/// offset `h*W + w` within the plane (0 for average).
func naiveWindow(
  _ input: UnsafePointer<Float>, plane: Int, oh: Int, ow: Int, geometry g: ConvGeometry, mode: PoolingMode
) -> (value: Float, winner: Int) {
  let height = g.inputHeight, width = g.inputWidth
  var sum: Float = 0
  var best: Float = 0
  var winner = -1
  for kh in 0..<g.kernelHeight {
    for kw in 0..<g.kernelWidth {
      let h = oh * g.strideHeight - g.padTop + kh
      let w = ow * g.strideWidth - g.padLeft + kw
      if h < 0 || h >= height || w < 0 || w >= width { continue }  // padding
      let value = input[(plane * height + h) * width + w]
      switch mode {
      case .average:
        sum += value
      case .max, .min:
        if winner < 0 || poolingPrefers(value, over: best, max: mode == .max) {
          best = value
          winner = h * width + w
        }
      }
    }
  }
  if mode == .average { return (sum / Float(g.kernelHeight * g.kernelWidth), 0) }
  return (best, winner)
}
