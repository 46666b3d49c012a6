import CNNTensor

/// Maps `∂L/∂output` to `∂L/∂input`, accumulating `∂L/∂θ` into each parameter's `gradient`.
/// It returns a new tensor and never modifies its argument.
public typealias Pullback = (Tensor) -> Tensor

/// A differentiable map from one tensor to another, and a node of the layer tree.
///
/// The mode is chosen by the call: `layer(x)` computes the output for inference (dropout
/// off, running statistics), `layer.forward(x)` computes it for training and returns the
/// pullback. Layers keep only parameters and hyper-parameters; the pullback closure
/// captures whatever it needs from the forward pass, so a layer is reentrant.
///
/// The tree: each layer lists its direct sublayers in ``children`` under structural names
/// (`"0"`, `"layer1"`, `"downsample"`) and its own tensors in ``ownParameters`` and
/// ``ownBuffers`` (`"weight"`, `"running_mean"`). Everything else is derived from these
/// three (see `Layer+Tree.swift`): `namedParameters` (`"layer1.0.conv1.weight"`, PyTorch's
/// `state_dict` keys), `namedBuffers`, `namedDescendants` and `layers(ofType:)`.
public protocol Layer: AnyObject {
  /// Computes the output for inference.
  func callAsFunction(_ input: Tensor) -> Tensor

  /// Computes the output for training and its pullback.
  ///
  /// - Parameter needsInputGradient: When `false`, the pullback may skip computing
  ///   `∂L/∂input` and return an empty tensor (shape `[0]`); parameter gradients are always
  ///   accumulated. The first layer of a network is called this way, since nothing uses the
  ///   gradient with respect to the images.
  func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback)

  /// The output shape for an input of shape `input`, computed without running the layer.
  /// - Throws: `ShapeError` naming the layer and both shapes if the input does not fit.
  func outputShape(for input: Shape) throws(ShapeError) -> Shape

  /// The direct sublayers with their structural names, in the order their parameters are
  /// named (for a `Sequential`, `"0"`, `"1"`, …). Empty for a leaf (the default). A child
  /// named `""` lends its names to its parent unprefixed (a `Residual`'s body).
  var children: [(name: String, layer: any Layer)] { get }

  /// The parameters this layer holds itself, not through a child (`"weight"`, `"bias"`).
  var ownParameters: [(name: String, parameter: Parameter)] { get }

  /// The buffers this layer holds itself (`"running_mean"`, `"num_batches_tracked"`).
  var ownBuffers: [(name: String, buffer: Buffer)] { get }
}

extension Layer {
  /// A leaf: no sublayers.
  public var children: [(name: String, layer: any Layer)] { [] }

  /// No parameters of its own.
  public var ownParameters: [(name: String, parameter: Parameter)] { [] }

  /// No buffers of its own.
  public var ownBuffers: [(name: String, buffer: Buffer)] { [] }

  /// Computes the output for training and a pullback that returns `∂L/∂input`.
  public func forward(_ input: Tensor) -> (output: Tensor, pullback: Pullback) {
    forward(input, needsInputGradient: true)
  }

  /// By default, inference is the training computation without its pullback.
  public func callAsFunction(_ input: Tensor) -> Tensor {
    forward(input, needsInputGradient: false).output
  }
}
