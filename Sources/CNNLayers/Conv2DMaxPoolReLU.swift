import CNNKernels
import CNNTensor

/// `relu(maxPool(conv(x)))` as one layer: what ``Sequential/fusionPass(_:)`` puts in a
/// network's execution plan for a `Conv2D` → `ReLU` → max-`Pool2D` run of layers.
///
/// Shape: input `[N, C, H, W]` → output `[N, K, OH′, OW′]`, the pooling's output for the
/// convolution's. When the pooling is 2×2 with stride 2 and no padding and the convolution's
/// output is at least 2×2, it runs image by image (`conv2DMaxPoolReLUForward`) without
/// writing out the whole batch's convolution output; otherwise it runs the convolution,
/// the pooling, then the ReLU. Either way the values and gradients are bit for bit those of
/// the three layers in their declared order, since `max(relu(xᵢ)) = relu(max(xᵢ))` with the
/// same winner (see ``PoolThenReLU``).
///
/// Names: the children are `"0"` (the convolution), `"1"` (the ReLU) and `"2"` (the pooling),
/// as in the `Sequential` it stands for; inside a `Sequential` it is only an execution step,
/// and the parameters keep the names of the declared layers.
public final class Conv2DMaxPoolReLU: Layer {
  /// The convolution, whose parameters this layer uses (and shares).
  public let convolution: Conv2D
  /// The ReLU declared between the convolution and the pooling.
  public let relu: ReLU
  /// The max pooling.
  public let pool: Pool2D

  /// Fuses `convolution` → `relu` → `pool`; `pool` must be a max pooling.
  public init(convolution: Conv2D, relu: ReLU, pool: Pool2D) {
    precondition(pool.mode == .max, "Conv2DMaxPoolReLU needs a max pooling, got \(pool.mode.rawValue)")
    self.convolution = convolution
    self.relu = relu
    self.pool = pool
  }

  public var children: [(name: String, layer: any Layer)] { [("0", convolution), ("1", relu), ("2", pool)] }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    try pool.outputShape(for: convolution.outputShape(for: input))
  }

  /// Whether the one-step kernel applies to an input of shape `input`: the pooling is 2×2
  /// with stride 2 and no padding, and the convolution's output is at least 2×2.
  func runsFused(input: Shape) -> Bool {
    guard let convolved = try? convolution.geometry(for: input),
      convolved.outputHeight >= 2, convolved.outputWidth >= 2,
      let pooled = try? pool.geometry(for: [convolved.batch, convolution.outputChannels, convolved.outputHeight, convolved.outputWidth])
    else { return false }
    return pooled.isTwoByTwoStrideTwo
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    guard runsFused(input: input.shape) else { return relu(pool(convolution(input))) }
    return fusedOutput(input, winners: nil)
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    guard runsFused(input: input.shape) else {
      let (convolved, convolutionPullback) = convolution.forward(input, needsInputGradient: needsInputGradient)
      let (pooled, poolPullback) = pool.forward(convolved, needsInputGradient: true)
      let (output, reluPullback) = relu.forward(pooled, needsInputGradient: true)
      return (output, { convolutionPullback(poolPullback(reluPullback($0))) })
    }
    let conv = convolution
    let g = trappingOnShapeError { () throws(ShapeError) in try conv.geometry(for: input.shape) }
    // The kernel records every window's winner, so the indices start uninitialized.
    var winners = uninitializedIndices(count: g.batch * conv.outputChannels * (g.outputHeight / 2) * (g.outputWidth / 2))
    let output = winners.withUnsafeMutableBufferPointer { fusedOutput(input, winners: $0.baseAddress) }
    let outputShape = output.shape
    return (output, { [weight = conv.weight, bias = conv.bias, outputChannels = conv.outputChannels, groups = conv.groups, winners] dOutput in
      dOutput.expectShape(outputShape, "Conv2D + max-pool + ReLU pullback")
      // The kernel overwrites every element of dInput (its tests start dInput as NaN), so
      // it starts uninitialized: zeroing it first cost a serial pass over the input.
      var dInput = Tensor(shape: needsInputGradient ? input.shape : [0], unsafeUninitialized: { _ in })
      withPointers(input, weight.value, output, dOutput) { x, w, pooled, dy in
        withGradientPointers(&dInput, weight, bias) { dx, dw, db in
          winners.withUnsafeBufferPointer { indices in
            conv2DMaxPoolReLUBackward(
              input: x, weight: w, pooled: pooled, argIndex: indices.baseAddress!, dPooled: dy,
              dInput: needsInputGradient ? dx : nil, dWeight: dw, dBias: db, geometry: g,
              outputChannels: outputChannels, groups: groups)
          }
        }
      }
      return dInput
    })
  }

  /// The one-step forward pass, recording each window's winner in `winners` when given
  /// (training needs them for the backward pass; inference passes `nil`).
  private func fusedOutput(_ input: Tensor, winners: UnsafeMutablePointer<Int32>?) -> Tensor {
    let conv = convolution
    let g = trappingOnShapeError { () throws(ShapeError) in try conv.geometry(for: input.shape) }
    return Tensor(shape: [g.batch, conv.outputChannels, g.outputHeight / 2, g.outputWidth / 2], writingWith: { out in
      withPointers(input, conv.weight.value, conv.bias?.value) { x, w, b in
        conv2DMaxPoolReLUForward(
          input: x, weight: w, bias: b, pooled: out, argIndex: winners, geometry: g,
          outputChannels: conv.outputChannels, groups: conv.groups)
      }
    })
  }
}

/// `relu(maxPool(x))` computed as pooling first: what ``Sequential/fusionPass(_:)`` runs for a
/// `ReLU` directly followed by a max-`Pool2D` (not after a convolution it fuses with).
///
/// `max(relu(x₁), …, relu(xₖ)) = relu(max(x₁, …, xₖ))` exactly, and the gradients agree too:
/// when the window's largest value is positive both send the gradient to it (the same
/// element, by the same tie rule), otherwise both give zero. Pooling first, the ReLU and its
/// backward touch only the pooled values: a quarter of them after a 2×2 pool, which saves
/// about a tenth of a SimpleConvNet training step.
///
/// Shape: the pooling's. Names: children `"0"` (the ReLU) and `"1"` (the pooling), in their
/// declared order.
public final class PoolThenReLU: Layer {
  /// The ReLU, declared first.
  public let relu: ReLU
  /// The max pooling, declared second and run first.
  public let pool: Pool2D

  /// Runs `pool` then `relu`; `pool` must be a max pooling.
  public init(relu: ReLU, pool: Pool2D) {
    precondition(pool.mode == .max, "PoolThenReLU needs a max pooling, got \(pool.mode.rawValue)")
    self.relu = relu
    self.pool = pool
  }

  public var children: [(name: String, layer: any Layer)] { [("0", relu), ("1", pool)] }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape { try pool.outputShape(for: input) }

  public func callAsFunction(_ input: Tensor) -> Tensor { relu(pool(input)) }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let (pooled, poolPullback) = pool.forward(input, needsInputGradient: needsInputGradient)
    let (output, reluPullback) = relu.forward(pooled, needsInputGradient: true)
    return (output, { poolPullback(reluPullback($0)) })
  }
}
