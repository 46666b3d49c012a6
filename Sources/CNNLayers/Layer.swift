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
    var result: [(name: String, parameter: Parameter)] = []
    var mirror: Mirror? = Mirror(reflecting: self)
    var levels: [Mirror] = []
    while let current = mirror {
      levels.append(current)
      mirror = current.superclassMirror
    }
    for level in levels.reversed() {
      for child in level.children {
        guard let label = child.label else { continue }
        collectParameters(from: child.value, name: label, into: &result)
      }
    }
    return result
  }

  /// By default the buffers are found by the same walk as the parameters: a `Buffer` is
  /// named by its property, nested layers and arrays of layers prefix their own names.
  public var namedBuffers: [(name: String, buffer: Buffer)] {
    var result: [(name: String, buffer: Buffer)] = []
    var mirror: Mirror? = Mirror(reflecting: self)
    var levels: [Mirror] = []
    while let current = mirror {
      levels.append(current)
      mirror = current.superclassMirror
    }
    for level in levels.reversed() {
      for child in level.children {
        guard let label = child.label else { continue }
        collectBuffers(from: child.value, name: label, into: &result)
      }
    }
    return result
  }
}

/// Appends the buffers found in `value` (a buffer, a layer, an optional or an array of
/// either) to `result`, named below `name`.
func collectBuffers(from value: Any, name: String, into result: inout [(name: String, buffer: Buffer)]) {
  switch value {
  case let buffer as Buffer:
    result.append((name, buffer))
  case let layer as any Layer:
    for (childName, buffer) in layer.namedBuffers {
      result.append(("\(name).\(childName)", buffer))
    }
  case let array as [Any]:
    for (index, element) in array.enumerated() {
      collectBuffers(from: element, name: "\(name).\(index)", into: &result)
    }
  default:
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional, let wrapped = mirror.children.first {
      collectBuffers(from: wrapped.value, name: name, into: &result)
    }
  }
}

/// Appends the parameters found in `value` (a parameter, a layer, an optional or an array
/// of either) to `result`, named below `name`.
func collectParameters(from value: Any, name: String, into result: inout [(name: String, parameter: Parameter)]) {
  switch value {
  case let parameter as Parameter:
    result.append((name, parameter))
  case let layer as any Layer:
    for (childName, parameter) in layer.namedParameters {
      result.append(("\(name).\(childName)", parameter))
    }
  case let array as [Any]:
    for (index, element) in array.enumerated() {
      collectParameters(from: element, name: "\(name).\(index)", into: &result)
    }
  default:
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional, let wrapped = mirror.children.first {
      collectParameters(from: wrapped.value, name: name, into: &result)
    }
  }
}
