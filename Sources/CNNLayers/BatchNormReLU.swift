import CNNTensor

/// `relu(batchNorm(x))` in one pass over the values: what ``Sequential/fusionPass(_:)`` runs
/// for a `BatchNorm2D` directly followed by a `ReLU` (every ResNet, GoogLeNet and VGG-BN block).
///
/// Forward, each value is normalized and clamped where it is computed, `v = γ·(x − μ)·invσ + β`,
/// `y = v < 0 ? 0 : v`, so the normalized tensor is never written, read back and kept for the
/// ReLU's backward pass. Backward, the ReLU's rule `g = y > 0 ? dy : 0` is applied where batch
/// normalization reads `dy` (its two passes: the per-channel sums, then `∂L/∂x`) instead of in
/// a pass of its own. `y > 0` exactly where `v > 0`, and every value is computed by the same
/// expression in the same order as by the two layers, so outputs and gradients are identical to
/// theirs, bit for bit. Saved per step: one write and two reads of the activation forward, one
/// write and two reads backward, and one activation-sized tensor of memory.
///
/// Shape: `[N, C, H, W]` → the same. Names: children `"0"` (the batch normalization) and `"1"`
/// (the ReLU), in their declared order.
public final class BatchNormReLU: Layer {
  public let batchNorm: BatchNorm2D
  public let relu: ReLU

  public init(batchNorm: BatchNorm2D, relu: ReLU) {
    self.batchNorm = batchNorm
    self.relu = relu
  }

  public var children: [(name: String, layer: any Layer)] { [("0", batchNorm), ("1", relu)] }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape { try batchNorm.outputShape(for: input) }

  public func callAsFunction(_ input: Tensor) -> Tensor { batchNorm.infer(input, relu: true) }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    batchNorm.forward(input, needsInputGradient: needsInputGradient, fusedReLU: true)
  }
}
