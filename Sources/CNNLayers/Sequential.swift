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

/// Layers applied one after another; the pullback runs them in reverse (and reports each step
/// it has finished to a bound ``BackwardObserver``).
///
/// Parameters and buffers are named by position, as PyTorch's `nn.Sequential` does:
/// `"0.weight"`, `"3.bias"`, `"1.running_mean"`. Models subclass it (`final class LeNet5: Sequential`).
///
/// The declared `layers` give the names; `forward` and `callAsFunction` run ``plan``, which
/// ``fusionPass(_:)`` derives from them: the same computation, bit for bit, with a
/// `Conv2D` → `ReLU` → max-pooling run as one ``Conv2DMaxPoolReLU`` step, a `BatchNorm2D` →
/// `ReLU` as one ``BatchNormReLU`` and any other `ReLU` → max-pooling pair as ``PoolThenReLU``.
open class Sequential: Layer {
  /// The layers, in the order they are declared and named.
  public let layers: [any Layer]

  /// The steps `forward` and `callAsFunction` run: `fusionPass(layers)`. Fused steps share
  /// their layers (and so their parameters) with `layers`.
  public let plan: [any Layer]

  /// Creates a sequence from a builder: `Sequential { Conv2D(…); ReLU(); MaxPool2D(…) }`.
  public init(@LayerBuilder _ content: () -> [any Layer]) {
    self.layers = content()
    self.plan = Self.fusionPass(layers)
  }

  /// Creates a sequence from a list of layers.
  public init(_ layers: [any Layer]) {
    self.layers = layers
    self.plan = Self.fusionPass(layers)
  }

  /// `layers` with each `Conv2D` → `ReLU` → max-`Pool2D` run replaced by a
  /// ``Conv2DMaxPoolReLU``, each `BatchNorm2D` → `ReLU` pair by a ``BatchNormReLU`` and each
  /// other `ReLU` → max-`Pool2D` pair by a ``PoolThenReLU``;
  /// every other layer is kept as it is. Applying the result in order computes exactly what
  /// applying `layers` does, with the same gradients.
  public static func fusionPass(_ layers: [any Layer]) -> [any Layer] {
    func maxPool(_ index: Int) -> Pool2D? {
      guard index < layers.count, let pool = layers[index] as? Pool2D, pool.mode == .max else { return nil }
      return pool
    }
    var plan: [any Layer] = []
    var i = 0
    while i < layers.count {
      if let conv = layers[i] as? Conv2D, i + 1 < layers.count, let relu = layers[i + 1] as? ReLU,
        let pool = maxPool(i + 2)
      {
        plan.append(Conv2DMaxPoolReLU(convolution: conv, relu: relu, pool: pool))
        i += 3
      } else if let batchNorm = layers[i] as? BatchNorm2D, i + 1 < layers.count, let relu = layers[i + 1] as? ReLU {
        plan.append(BatchNormReLU(batchNorm: batchNorm, relu: relu))
        i += 2
      } else if let relu = layers[i] as? ReLU, let pool = maxPool(i + 1) {
        plan.append(PoolThenReLU(relu: relu, pool: pool))
        i += 2
      } else {
        plan.append(layers[i])
        i += 1
      }
    }
    return plan
  }

  /// The layers under their positions: `"0"`, `"1"`, …
  public var children: [(name: String, layer: any Layer)] {
    layers.enumerated().map { (String($0.offset), $0.element) }
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    var shape = input
    for layer in layers { shape = try layer.outputShape(for: shape) }
    return shape
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    plan.reduce(input) { $1($0) }
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    var x = input
    var pullbacks: [Pullback] = []
    pullbacks.reserveCapacity(plan.count)
    for (position, step) in plan.enumerated() {
      let (y, pullback) = step.forward(x, needsInputGradient: position > 0 || needsInputGradient)
      pullbacks.append(pullback)
      x = y
    }
    return (x, { [plan] dOutput in
      let observer = BackwardObserver.current
      var gradient = dOutput
      for position in plan.indices.reversed() {
        gradient = pullbacks[position](gradient)
        observer?.stepFinished(plan[position])
      }
      return gradient
    })
  }
}
