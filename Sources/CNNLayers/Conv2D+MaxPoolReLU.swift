import CNNKernels
import CNNTensor

extension Conv2D {
  /// Whether `Sequential` may run this convolution and the max-`pool` after it (with its
  /// ReLU) as one step for an input of shape `input`: the pooling is 2×2 with stride 2 and no
  /// padding, and the convolution's output is at least 2×2.
  func fuses(pool: Pool2D, input: Shape) -> Bool {
    guard input.rank == 4, input[1] == inputChannels else { return false }
    let convolution = geometry(for: input)
    guard convolution.outputHeight >= 2, convolution.outputWidth >= 2 else { return false }
    return pool.geometry(for: outputShape(for: input)).isTwoByTwoStrideTwo
  }

  /// `relu(maxPool2x2(self(input)))` image by image (`conv2DMaxPoolReLUForward`): the same
  /// values and gradients as the three layers run one after another, without writing out the
  /// whole batch's convolution output. Shape: `[N, C, H, W]` → `[N, K, ⌊OH/2⌋, ⌊OW/2⌋]`.
  func forwardMaxPoolReLU(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let g = geometry(for: input.shape)
    var winners = [Int32](repeating: 0, count: g.batch * outputChannels * (g.outputHeight / 2) * (g.outputWidth / 2))
    let output = winners.withUnsafeMutableBufferPointer { maxPoolReLU(input, winners: $0.baseAddress) }
    let outputShape = output.shape
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

  /// `relu(maxPool2x2(self(input)))` for inference: `forwardMaxPoolReLU` without the
  /// pooling winners that only the backward pass needs.
  func maxPoolReLU(_ input: Tensor) -> Tensor { maxPoolReLU(input, winners: nil) }

  /// The fused forward pass, recording each window's winner in `winners` when given.
  private func maxPoolReLU(_ input: Tensor, winners: UnsafeMutablePointer<Int32>?) -> Tensor {
    let g = geometry(for: input.shape)
    return Tensor(shape: [g.batch, outputChannels, g.outputHeight / 2, g.outputWidth / 2], writingWith: { out in
      input.withPointer { x in
        weight.value.withPointer { w in
          withOptionalPointer(bias?.value) { b in
            conv2DMaxPoolReLUForward(
              input: x, weight: w, bias: b, pooled: out, argIndex: winners, geometry: g,
              outputChannels: outputChannels, groups: groups)
          }
        }
      }
    })
  }
}
