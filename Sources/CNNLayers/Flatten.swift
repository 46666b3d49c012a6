import CNNTensor

/// Flattens every sample into a vector. Shape: `[N, C, H, W]` → `[N, C·H·W]`.
public final class Flatten: Layer {
  public init() {}

  public var namedParameters: [(name: String, parameter: Parameter)] { [] }

  public func outputShape(for input: Shape) -> Shape {
    precondition(input.rank >= 1, "Flatten expects a batch [N, …], got \(input)")
    return [input[0], input.dimensions.dropFirst().reduce(1, *)]
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let inputShape = input.shape
    return (input.reshaped(outputShape(for: inputShape)), { $0.reshaped(inputShape) })
  }
}
