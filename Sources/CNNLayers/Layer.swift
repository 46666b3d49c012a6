import CNNTensor

/// Maps `∂L/∂output` to `∂L/∂input`, accumulating `∂L/∂θ` into each parameter's `gradient`.
/// It returns a new tensor and never modifies its argument.
public typealias Pullback = (Tensor) -> Tensor

/// A differentiable map from one tensor to another.
///
/// The mode is chosen by the call: `layer(x)` computes the output for inference (dropout
/// off, running statistics), `layer.forward(x)` computes it for training and returns the
/// pullback. Layers keep only parameters and hyper-parameters; the pullback closure
/// captures whatever it needs from the forward pass, so a layer is reentrant.
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
  /// Traps with a message naming the layer and the shapes if the input does not fit.
  func outputShape(for input: Shape) -> Shape

  /// The parameters, each with its structural name (`"weight"`, `"0.bias"`, `"layer1.0.conv1.weight"`).
  var namedParameters: [(name: String, parameter: Parameter)] { get }

  /// The buffers (non-learned state such as running statistics), each with its structural
  /// name, in the same scheme as `namedParameters` (`"bn1.running_mean"`).
  var namedBuffers: [(name: String, buffer: Buffer)] { get }
}

extension Layer {
  /// Computes the output for training and a pullback that returns `∂L/∂input`.
  public func forward(_ input: Tensor) -> (output: Tensor, pullback: Pullback) {
    forward(input, needsInputGradient: true)
  }

  /// By default, inference is the training computation without its pullback.
  public func callAsFunction(_ input: Tensor) -> Tensor {
    forward(input, needsInputGradient: false).output
  }

  /// The parameters in structural order.
  public var parameters: [Parameter] { namedParameters.map(\.parameter) }

  /// The total number of learned scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.scalarCount } }

  /// Sets every parameter's gradient to zero.
  public func zeroGradients() {
    for parameter in parameters { parameter.zeroGradient() }
  }

  /// The buffer with structural name `name`, or `nil`.
  public func buffer(named name: String) -> Buffer? {
    namedBuffers.first { $0.name == name }?.buffer
  }

  /// The parameter with structural name `name`, or `nil`.
  public func parameter(named name: String) -> Parameter? {
    namedParameters.first { $0.name == name }?.parameter
  }

  /// By default the parameters are found by walking the stored properties: a `Parameter`
  /// is named by its property, a nested `Layer` prefixes its own names with the property
  /// name, and an array of layers with the property name and index (`"blocks.0.weight"`).
  public var namedParameters: [(name: String, parameter: Parameter)] {
    reflectedMembers(of: self) { layer in layer.namedParameters.map { ($0.name, $0.parameter) } }
      .map { (name: $0.name, parameter: $0.member) }
  }

  /// By default the buffers are found by the same walk as the parameters: a `Buffer` is
  /// named by its property, nested layers and arrays of layers prefix their own names.
  public var namedBuffers: [(name: String, buffer: Buffer)] {
    reflectedMembers(of: self) { layer in layer.namedBuffers.map { ($0.name, $0.buffer) } }
      .map { (name: $0.name, buffer: $0.member) }
  }
}

/// The members of type `Member` (parameters or buffers) that `layer` holds in its stored
/// properties (its superclasses' first), named by property path. A nested layer contributes
/// `nested(layer)` under its property's name; arrays add an index; optionals are looked through.
func reflectedMembers<Member: AnyObject>(
  of layer: any Layer, nested: (any Layer) -> [(name: String, member: Member)]
) -> [(name: String, member: Member)] {
  var levels: [Mirror] = []
  var mirror: Mirror? = Mirror(reflecting: layer)
  while let current = mirror {
    levels.append(current)
    mirror = current.superclassMirror
  }
  var result: [(name: String, member: Member)] = []
  func collect(_ value: Any, _ name: String) {
    switch value {
    case let member as Member:
      result.append((name, member))
    case let child as any Layer:
      for (childName, member) in nested(child) { result.append(("\(name).\(childName)", member)) }
    case let array as [Any]:
      for (index, element) in array.enumerated() { collect(element, "\(name).\(index)") }
    default:
      let mirror = Mirror(reflecting: value)
      if mirror.displayStyle == .optional, let wrapped = mirror.children.first { collect(wrapped.value, name) }
    }
  }
  for level in levels.reversed() {
    for child in level.children {
      if let label = child.label { collect(child.value, label) }
    }
  }
  return result
}
