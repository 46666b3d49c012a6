import CNNTensor

/// Flattens every sample into a vector. Shape: `[N, C, H, W]` → `[N, C·H·W]`.
public final class Flatten: Layer {
  public init() {}

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    guard input.rank >= 1 else {
      throw ShapeError(layer: "Flatten", expected: "[N, …]", got: input, reason: "expects a batch")
    }
    return [input[0], input.dimensions.dropFirst().reduce(1, *)]
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let inputShape = input.shape
    return (input.reshaped([inputShape[0], inputShape.dimensions.dropFirst().reduce(1, *)]), { $0.reshaped(inputShape) })
  }
}
