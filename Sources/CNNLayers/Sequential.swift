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
///
/// One reordering, invisible in the results: a `ReLU` directly followed by a max-pooling runs
/// after the pooling instead (see ``executionOrder``). And a `Conv2D` followed by that pair,
/// with a 2×2 stride-2 pooling, runs as one step, image by image
/// (`Conv2D.forwardMaxPoolReLU`): the same values and gradients, without writing out and
/// reading back the whole batch's convolution output.
open class Sequential: Layer {
  /// The layers, in the order they are applied.
  public let layers: [any Layer]

  /// The positions of `layers` in the order `forward` and `callAsFunction` run them: their
  /// own order, except that each `ReLU` directly followed by a max-pooling `Pool2D` swaps
  /// places with it.
  ///
  /// `max(relu(x₁), …, relu(xₖ)) = relu(max(x₁, …, xₖ))` exactly, and the gradients agree too:
  /// when the window's largest value is positive both send the gradient to it (the same
  /// element, by the same tie rule), otherwise both give zero. Pooling first, the ReLU and
  /// its backward touch only the pooled values: a quarter of them after a 2×2 pool, which
  /// saves about a tenth of a SimpleConvNet training step.
  public let executionOrder: [Int]

  /// Creates a sequence from a builder: `Sequential { Conv2D(…); ReLU(); MaxPool2D(…) }`.
  public init(@LayerBuilder _ content: () -> [any Layer]) {
    self.layers = content()
    self.executionOrder = Self.executionOrder(of: layers)
  }

  /// Creates a sequence from a list of layers.
  public init(_ layers: [any Layer]) {
    self.layers = layers
    self.executionOrder = Self.executionOrder(of: layers)
  }

  /// `layers.indices`, with each `ReLU` → max-pooling pair swapped (see ``executionOrder``).
  static func executionOrder(of layers: [any Layer]) -> [Int] {
    var order = Array(layers.indices)
    var i = 0
    while i + 1 < layers.count {
      if layers[i] is ReLU, let pool = layers[i + 1] as? Pool2D, pool.mode == .max {
        order.swapAt(i, i + 1)
        i += 2
      } else {
        i += 1
      }
    }
    return order
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
    var x = input
    var position = 0
    while position < executionOrder.count {
      if let conv = fusedConvolution(at: position, input: x.shape) {
        x = conv.maxPoolReLU(x)
        position += 3
      } else {
        x = layers[executionOrder[position]](x)
        position += 1
      }
    }
    return x
  }

  /// The `Conv2D` at `position` of ``executionOrder`` when it and the next two steps (its
  /// max-pooling, then its ReLU: a pair ``executionOrder`` swapped) can run as one, for an
  /// input of shape `input`.
  func fusedConvolution(at position: Int, input: Shape) -> Conv2D? {
    guard position + 2 < executionOrder.count else { return nil }
    let index = executionOrder[position]
    guard let conv = layers[index] as? Conv2D, executionOrder[position + 1] == index + 2,
      executionOrder[position + 2] == index + 1, let pool = layers[index + 2] as? Pool2D,
      conv.fuses(pool: pool, input: input)
    else { return nil }
    return conv
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    var x = input
    var pullbacks: [Pullback] = []
    pullbacks.reserveCapacity(layers.count)
    var position = 0
    while position < executionOrder.count {
      let needs = position > 0 || needsInputGradient
      let (y, pullback): (Tensor, Pullback)
      if let conv = fusedConvolution(at: position, input: x.shape) {
        (y, pullback) = conv.forwardMaxPoolReLU(x, needsInputGradient: needs)
        position += 3
      } else {
        (y, pullback) = layers[executionOrder[position]].forward(x, needsInputGradient: needs)
        position += 1
      }
      pullbacks.append(pullback)
      x = y
    }
    return (x, { dOutput in
      pullbacks.reversed().reduce(dOutput) { gradient, pullback in pullback(gradient) }
    })
  }
}
