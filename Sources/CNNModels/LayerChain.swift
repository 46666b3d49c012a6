import CNNLayers
import CNNTensor

/// A layer made of named sublayers applied one after another: the Swift form of a PyTorch
/// module whose `forward` calls its attributes in turn.
///
/// `children` names the sublayers after the properties that hold them (`conv1`, `features`),
/// so the structural names are torchvision's `state_dict` keys (`conv1.weight`,
/// `features.0.weight`) where a `Sequential` would number its children instead. `chain`
/// lists the layers in the order they run: by default the children in order, but a layer may
/// appear more than once (ResNet's bottleneck applies its one `relu` three times). Every
/// layer of `chain` must be a child (a debug build asserts it in `forward`).
public protocol LayerChain: Layer {
  /// The sublayers, in the order `forward` applies them.
  var chain: [any Layer] { get }
}

extension LayerChain {
  /// The children, in their order.
  public var chain: [any Layer] { children.map(\.layer) }

  /// `chain`, each step named by the child it is (`"relu"` each time the bottleneck's ReLU runs).
  public var namedChain: [(name: String, layer: any Layer)] {
    var names: [ObjectIdentifier: String] = [:]
    for child in children where names[ObjectIdentifier(child.layer)] == nil {
      names[ObjectIdentifier(child.layer)] = child.name
    }
    return chain.enumerated().map { index, layer in (names[ObjectIdentifier(layer)] ?? "\(index)", layer) }
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    var shape = input
    for layer in chain { shape = try layer.outputShape(for: shape) }
    return shape
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    chain.reduce(input) { $1($0) }
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    assert(chainIsAmongChildren, "\(type(of: self)) runs a layer that is not among its children: declare `children`")
    return Sequential(chain).forward(input, needsInputGradient: needsInputGradient)
  }

  /// Whether every layer of `chain` is one of `children` (otherwise its parameters would be
  /// trained but neither named nor saved). Checked in debug builds.
  var chainIsAmongChildren: Bool {
    let named = Set(children.map { ObjectIdentifier($0.layer) })
    return chain.allSatisfy { named.contains(ObjectIdentifier($0)) }
  }
}
