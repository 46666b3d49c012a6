import CNNKernels
import CNNTensor

extension Conv2D {
  /// Whether `Sequential` may run this convolution, `relu` and `pool` (in that order in its
  /// layers) as one step: `pool` is a 2×2, stride-2 max-pooling without padding and the
  /// convolution's output for `input` is at least 2×2.
  func fuses(relu: any Layer, pool: any Layer, input: Shape) -> Bool {
    guard relu is ReLU, let pool = pool as? Pool2D, pool.mode == .max, input.rank == 4,
      input[1] == inputChannels
    else { return false }
    let convolution = geometry(for: input)
    guard convolution.outputHeight >= 2, convolution.outputWidth >= 2 else { return false }
    let window = pool.geometry(for: [convolution.batch, outputChannels, convolution.outputHeight, convolution.outputWidth])
    return window.kernelHeight == 2 && window.kernelWidth == 2 && window.strideHeight == 2
      && window.strideWidth == 2 && window.padTop == 0 && window.padBottom == 0 && window.padLeft == 0
      && window.padRight == 0
  }

  /// `relu(maxPool2x2(self(input)))` image by image (`conv2DMaxPoolReLUForward`): the same
  /// values and gradients as the three layers run one after another, without writing out the
  /// whole batch's convolution output. Shape: `[N, C, H, W]` → `[N, K, ⌊OH/2⌋, ⌊OW/2⌋]`.
  func forwardMaxPoolReLU(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let g = geometry(for: input.shape)
    let outputShape: Shape = [g.batch, outputChannels, g.outputHeight / 2, g.outputWidth / 2]
    var winners = [Int32](repeating: 0, count: outputShape.scalarCount)
    let output = Tensor(shape: outputShape, writingWith: { out in
      input.withPointer { x in
        weight.value.withPointer { w in
          withOptionalPointer(bias?.value) { b in
            winners.withUnsafeMutableBufferPointer { indices in
              conv2DMaxPoolReLUForward(
                input: x, weight: w, bias: b, pooled: out, argIndex: indices.baseAddress!, geometry: g,
                outputChannels: outputChannels, groups: groups)
            }
          }
        }
      }
    })
    return (output, { [weight, bias, outputChannels, groups, winners] dOutput in
      dOutput.expectShape(outputShape, "Conv2D + max-pool + ReLU pullback")
      var dInput = needsInputGradient ? Tensor.zeros(input.shape) : Tensor.zeros([0])
      input.withPointer { x in
        weight.value.withPointer { w in
          output.withPointer { pooled in
            dOutput.withPointer { dy in
              dInput.withMutablePointer { dx in
                weight.gradient.withMutablePointer { dw in
                  withOptionalGradientPointer(bias) { db in
                    winners.withUnsafeBufferPointer { indices in
                      conv2DMaxPoolReLUBackward(
                        input: x, weight: w, pooled: pooled, argIndex: indices.baseAddress!, dPooled: dy,
                        dInput: needsInputGradient ? dx : nil, dWeight: dw, dBias: db, geometry: g,
                        outputChannels: outputChannels, groups: groups)
                    }
                  }
                }
              }
            }
          }
        }
      }
      return dInput
    })
  }
}
