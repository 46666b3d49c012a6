import CNNKernels
import CNNTensor

/// A skip connection: `y = activation(body(x) + shortcut(x))`, where the shortcut is the
/// identity or a projection (He, Zhang, Ren & Sun, 2015, "Deep Residual Learning for Image
/// Recognition", arXiv:1512.03385, equation 2).
///
/// Shape: input `[N, C, H, W]` → output `body.outputShape(for: input)`, which must equal the
/// shortcut's output: with no projection the body must keep the shape; when it changes the
/// channels or the stride, a projection such as a 1×1 convolution plus batch normalization
/// must match it.
///
/// Backward: `∂L/∂x = body′ᵀ·g + shortcut′ᵀ·g` with `g = activation′ᵀ·dy`; the identity
/// shortcut passes `g` through unchanged, which is why deep residual networks still train.
///
/// With a `ReLU` activation (ResNet's) the sum and the ReLU run as one pass, and the ReLU's
/// backward reads its output rather than the sum, which is then never kept: the same values,
/// bit for bit, as running `+` and `ReLU`.
///
/// Names: the body's parameters and buffers are named as the residual's own, and the
/// projection's sit under `downsample`, so a body with properties `conv1`, `bn1`, … gives
/// torchvision's ResNet names exactly: `layer1.0.conv1.weight`, `layer1.0.bn1.running_mean`,
/// `layer1.0.downsample.0.weight`, `layer1.0.downsample.1.weight`.
public final class Residual: Layer {
  /// The residual branch `F(x)`.
  public let body: any Layer
  /// The projection on the skip path, or `nil` for the identity. It is named `downsample`,
  /// torchvision's name, because in ResNets it appears where the image is downsampled.
  public let downsample: (any Layer)?
  /// Applied to the sum (ResNet's final ReLU), or `nil`.
  public let activation: (any Layer)?

  /// Creates `activation(body(x) + downsample(x))`, with the identity when `downsample` is `nil`.
  public init(body: any Layer, downsample: (any Layer)? = nil, activation: (any Layer)? = nil) {
    self.body = body
    self.downsample = downsample
    self.activation = activation
  }

  /// Creates a residual whose body is a `Sequential` of the built layers (named `0.`, `1.`, …).
  public convenience init(
    downsample: (any Layer)? = nil, activation: (any Layer)? = nil, @LayerBuilder body: () -> [any Layer]
  ) {
    self.init(body: Sequential(body()), downsample: downsample, activation: activation)
  }

  /// The body under `""` (its names are the residual's own), then `downsample` and
  /// `activation` when present.
  public var children: [(name: String, layer: any Layer)] {
    var result: [(name: String, layer: any Layer)] = [("", body)]
    if let downsample { result.append(("downsample", downsample)) }
    if let activation { result.append(("activation", activation)) }
    return result
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    let main = try body.outputShape(for: input)
    let skip = try downsample?.outputShape(for: input) ?? input
    guard main == skip else {
      throw ShapeError(
        layer: "Residual", expected: "a body output equal to the shortcut's \(skip)", got: input,
        reason: "the body gives \(main) but the \(downsample == nil ? "identity shortcut" : "downsample") gives \(skip)"
          + (downsample == nil ? " (add a projection)" : ""))
    }
    return try activation?.outputShape(for: main) ?? main
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    let (main, skip) = (body(input), downsample?(input) ?? input)
    if activation is ReLU { return Self.addReLU(main, skip) }
    let sum = main + skip
    return activation?(sum) ?? sum
  }

  /// `relu(main + skip)` in one pass (`addReLUForward`): ResNet's sum and final ReLU, bit for
  /// bit those of `+` and `ReLU`, without writing and keeping the sum.
  static func addReLU(_ main: Tensor, _ skip: Tensor) -> Tensor {
    Tensor(shape: main.shape, writingWith: { y in
      withPointers(main, skip) { a, b in addReLUForward(a, b, y, count: main.scalarCount) }
    })
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let (main, bodyPullback) = body.forward(input, needsInputGradient: needsInputGradient)
    let (skip, skipPullback) = downsample?.forward(input, needsInputGradient: needsInputGradient) ?? (input, { $0 })
    precondition(main.shape == skip.shape, "Residual body gives \(main.shape) but the shortcut gives \(skip.shape)")
    let output: Tensor
    let activationPullback: Pullback
    if activation is ReLU {
      // The ReLU's pullback from its output: `output > 0` exactly where the sum was.
      output = Self.addReLU(main, skip)
      activationPullback = { dOutput in
        dOutput.expectShape(output.shape, "Residual ReLU pullback")
        return Tensor(shape: output.shape, writingWith: { dSum in
          withPointers(output, dOutput) { y, dy in reluBackward(input: y, dOutput: dy, dInput: dSum, count: output.scalarCount) }
        })
      }
    } else {
      let sum = main + skip
      (output, activationPullback) = activation?.forward(sum, needsInputGradient: true) ?? (sum, { $0 })
    }
    return (
      output,
      { dOutput in
        let dSum = activationPullback(dOutput)
        var dInput = bodyPullback(dSum)
        let dSkip = skipPullback(dSum)
        guard needsInputGradient else { return .zeros([0]) }
        precondition(
          dInput.shape == dSkip.shape,
          "Residual: the body's input gradient is \(dInput.shape), the shortcut's \(dSkip.shape)")
        // dInput += dSkip in place, on the worker threads (`+` would make a third tensor, on one).
        dInput.withMutablePointer { target in
          dSkip.withPointer { accumulate($0, into: target, count: dSkip.scalarCount) }
        }
        return dInput
      }
    )
  }
}
