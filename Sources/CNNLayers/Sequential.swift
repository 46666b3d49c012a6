import CNNTensor

/// Builds the list of layers of a `Sequential { … }`.
@resultBuilder
public enum LayerBuilder {
  public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
  public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
  public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
  public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
  public static func buildEither(first part: [any Layer]) -> [any Layer] { part }
  public static func buildEither(second part: [any Layer]) -> [any Layer] { part }
  public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}

/// Layers applied one after another; the pullback runs them in reverse.
///
/// Parameters and buffers are named by position, as PyTorch's `nn.Sequential` does:
/// `"0.weight"`, `"3.bias"`, `"1.running_mean"`. Models subclass it (`final class LeNet5: Sequential`).
open class Sequential: Layer {
  /// The layers, in the order they are applied.
  public let layers: [any Layer]

  /// Creates a sequence from a builder: `Sequential { Conv2D(…); ReLU(); MaxPool2D(…) }`.
  public init(@LayerBuilder _ content: () -> [any Layer]) {
    self.layers = content()
  }

  /// Creates a sequence from a list of layers.
  public init(_ layers: [any Layer]) {
    self.layers = layers
  }

  public var namedParameters: [(name: String, parameter: Parameter)] {
    layers.enumerated().flatMap { index, layer in
      layer.namedParameters.map { ("\(index).\($0.name)", $0.parameter) }
    }
  }

  public var namedBuffers: [(name: String, buffer: Buffer)] {
    layers.enumerated().flatMap { index, layer in
      layer.namedBuffers.map { ("\(index).\($0.name)", $0.buffer) }
    }
  }

  public func outputShape(for input: Shape) -> Shape {
    layers.reduce(input) { $1.outputShape(for: $0) }
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    layers.reduce(input) { $1($0) }
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    var x = input
    var pullbacks: [Pullback] = []
    pullbacks.reserveCapacity(layers.count)
    for (index, layer) in layers.enumerated() {
      let (y, pullback) = layer.forward(x, needsInputGradient: index > 0 || needsInputGradient)
      pullbacks.append(pullback)
      x = y
    }
    return (x, { dOutput in
      pullbacks.reversed().reduce(dOutput) { gradient, pullback in pullback(gradient) }
    })
  }
}
