import CNNLayers
import CNNTensor

/// A layer made of sublayers stored in named properties and applied one after another: the
/// Swift form of a PyTorch module whose `forward` calls its attributes in turn.
///
/// The property names give the structural names (`conv1.weight`, `features.0.weight`), found
/// by the default `namedParameters`/`namedBuffers` walk, so a model can reproduce
/// torchvision's `state_dict` keys where a `Sequential` would number its children instead.
/// `chain` lists the same layers in the order they run; a layer may appear more than once
/// (ResNet's bottleneck applies its one `relu` three times).
public protocol LayerChain: Layer {
  /// The sublayers, in the order `forward` applies them.
  var chain: [any Layer] { get }
}

extension LayerChain {
  public func outputShape(for input: Shape) -> Shape {
    chain.reduce(input) { $1.outputShape(for: $0) }
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    chain.reduce(input) { $1($0) }
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    Sequential(chain).forward(input, needsInputGradient: needsInputGradient)
  }
}
