// Direct-loop reference convolution, forward above backward: the definition, written out.
// Tests compare conv2DForward / conv2DBackward against these. Not for production use.
//
//   input [N, C, H, W], weight [K, C/G, KH, KW], bias [K], output [N, K, OH, OW], G = groups

/// Reference 2-D convolution by direct loops (seven deep), same contract as `conv2DForward`.
///
/// Shape: input `[N, C, H, W]`, weight `[K, C/G, KH, KW]`, bias `[K]` -> output `[N, K, OH, OW]`,
/// where `OH = (H + PT + PB - KH) / SH + 1` (floor), and likewise for `OW`.
///
/// - Parameters:
///   - input: The batch `[N, C, H, W]`.
///   - weight: The filters `[K, C/G, KH, KW]`.
///   - bias: `[K]`, or `nil`.
///   - output: Receives `[N, K, OH, OW]` (overwritten).
///   - geometry: N, C, H, W, kernel, stride and padding.
///   - outputChannels: K.
///   - groups: G.
/// - Complexity: O(N * K * C/G * KH * KW * OH * OW), one multiply-add at a time.
public func conv2DForwardNaive(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry, outputChannels: Int, groups: Int = 1
) {
  let plan = ConvolutionPlan(g, outputChannels: outputChannels, groups: groups, caller: "conv2DForwardNaive")
  let kernelHeight = g.kernelHeight, kernelWidth = g.kernelWidth
  let height = g.inputHeight, width = g.inputWidth
  let outputHeight = g.outputHeight, outputWidth = g.outputWidth
  let cg = plan.groupChannels, kg = plan.groupOutputChannels
  for n in 0..<g.batch {
    for k in 0..<outputChannels {
      let group = k / kg
      for oh in 0..<outputHeight {
        for ow in 0..<outputWidth {
          var sum: Float = bias?[k] ?? 0
          for ci in 0..<cg {
            let c = group * cg + ci
            for kh in 0..<kernelHeight {
              let ih = oh * g.strideHeight - g.padTop + kh
              if ih < 0 || ih >= height { continue }
              for kw in 0..<kernelWidth {
                let iw = ow * g.strideWidth - g.padLeft + kw
                if iw < 0 || iw >= width { continue }
                let x = input[((n * g.inputChannels + c) * height + ih) * width + iw]
                sum += weight[((k * cg + ci) * kernelHeight + kh) * kernelWidth + kw] * x
              }
            }
          }
          output[((n * outputChannels + k) * outputHeight + oh) * outputWidth + ow] = sum
        }
      }
    }
  }
}

/// Reference gradients of `conv2DForwardNaive` by direct loops, same contract as
/// `conv2DBackward`: dInput is overwritten, dWeight and dBias are accumulated (+=); each is
/// skipped when nil.
///
/// `dInput[n, c, ih, iw] = sum of weight[k, ci, kh, kw] * dOutput[n, k, oh, ow]` over the
/// windows covering `(ih, iw)`; `dWeight[k, ci, kh, kw] += sum over n, oh, ow of
/// input[n, c, ih, iw] * dOutput[n, k, oh, ow]`; `dBias[k] += sum of dOutput[n, k, ...]`.
///
/// - Parameters:
///   - input: The forward input `[N, C, H, W]`.
///   - weight: The filters `[K, C/G, KH, KW]`.
///   - dOutput: `[N, K, OH, OW]`.
///   - dInput: Receives `[N, C, H, W]`, or `nil`.
///   - dWeight: Accumulates `[K, C/G, KH, KW]`, or `nil`.
///   - dBias: Accumulates `[K]`, or `nil`.
///   - geometry: N, C, H, W, kernel, stride and padding.
///   - outputChannels: K.
///   - groups: G.
/// - Complexity: O(N * K * C/G * KH * KW * OH * OW) per gradient.
public func conv2DBackwardNaive(
  input: UnsafePointer<Float>, weight: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
  geometry g: ConvGeometry, outputChannels: Int, groups: Int = 1
) {
  let plan = ConvolutionPlan(g, outputChannels: outputChannels, groups: groups, caller: "conv2DBackwardNaive")
  let kernelHeight = g.kernelHeight, kernelWidth = g.kernelWidth
  let height = g.inputHeight, width = g.inputWidth
  let outputHeight = g.outputHeight, outputWidth = g.outputWidth
  let cg = plan.groupChannels, kg = plan.groupOutputChannels
  let outputPlane = outputHeight * outputWidth

  if let dBias {
    for k in 0..<outputChannels {
      var sum: Float = 0
      for n in 0..<g.batch {
        let row = dOutput + (n * outputChannels + k) * outputPlane
        for p in 0..<outputPlane { sum += row[p] }
      }
      dBias[k] += sum
    }
  }

  if let dInput {
    for i in 0..<(g.batch * g.inputChannels * height * width) { dInput[i] = 0 }
  }

  for k in 0..<outputChannels {
    let group = k / kg
    for ci in 0..<cg {
      let c = group * cg + ci
      for kh in 0..<kernelHeight {
        for kw in 0..<kernelWidth {
          let wi = ((k * cg + ci) * kernelHeight + kh) * kernelWidth + kw
          var sum: Float = 0
          for n in 0..<g.batch {
            for oh in 0..<outputHeight {
              let ih = oh * g.strideHeight - g.padTop + kh
              if ih < 0 || ih >= height { continue }
              for ow in 0..<outputWidth {
                let iw = ow * g.strideWidth - g.padLeft + kw
                if iw < 0 || iw >= width { continue }
                let xi = ((n * g.inputChannels + c) * height + ih) * width + iw
                let dy = dOutput[((n * outputChannels + k) * outputHeight + oh) * outputWidth + ow]
                sum += input[xi] * dy
                dInput?[xi] += weight[wi] * dy
              }
            }
          }
          dWeight?[wi] += sum
        }
      }
    }
  }
}
