import CNNTensor

// Everything the layer tree gives, derived from each layer's `children`, `ownParameters`
// and `ownBuffers`: structural names, the flat parameter list the trainer steps, lookups by
// name and by type. Names join with dots, as PyTorch's `named_parameters()` does: a layer's
// own tensors first, then each child's under the child's name.

extension Layer {
  /// The parameters, each with its structural name (`"weight"`, `"0.bias"`,
  /// `"layer1.0.conv1.weight"`): own parameters first, then each child's, depth first.
  public var namedParameters: [(name: String, parameter: Parameter)] {
    var result: [(name: String, parameter: Parameter)] = []
    collectNamedParameters(prefix: "", into: &result)
    return result
  }

  /// The buffers (non-learned state such as running statistics), each with its structural
  /// name, in the same scheme and order as `namedParameters` (`"bn1.running_mean"`).
  public var namedBuffers: [(name: String, buffer: Buffer)] {
    var result: [(name: String, buffer: Buffer)] = []
    collectNamedBuffers(prefix: "", into: &result)
    return result
  }

  /// The parameters in structural order (the order of `namedParameters`), without building
  /// names: a walk over the tree that allocates one array, cheap enough to call every
  /// training step.
  public var parameters: [Parameter] {
    var result: [Parameter] = []
    collectParameters(into: &result)
    return result
  }

  /// This layer (named `""`) and every layer below it, depth first in `children` order, each
  /// with its structural name (`"layer1.0.conv1"`), as PyTorch's `named_modules()`. A layer
  /// reachable along two paths appears once, under the first. A child named `""` (a
  /// `Residual`'s body) has its parent's name.
  public var namedDescendants: [(name: String, layer: any Layer)] {
    var result: [(name: String, layer: any Layer)] = []
    var seen: Set<ObjectIdentifier> = []
    func visit(_ layer: any Layer, _ name: String) {
      guard seen.insert(ObjectIdentifier(layer)).inserted else { return }
      result.append((name, layer))
      for child in layer.children {
        visit(child.layer, name.isEmpty || child.name.isEmpty ? name + child.name : "\(name).\(child.name)")
      }
    }
    visit(self, "")
    return result
  }

  /// The layers of type `type` in this tree (this one included), each once, in the order of
  /// `namedDescendants`; e.g. the `Dropout` layers whose generators a checkpoint saves.
  public func layers<T: Layer>(ofType type: T.Type) -> [T] {
    namedDescendants.compactMap { $0.layer as? T }
  }

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

  private func collectParameters(into result: inout [Parameter]) {
    for own in ownParameters { result.append(own.parameter) }
    for child in children { child.layer.collectParameters(into: &result) }
  }

  private func collectNamedParameters(prefix: String, into result: inout [(name: String, parameter: Parameter)]) {
    for own in ownParameters { result.append((prefix + own.name, own.parameter)) }
    for child in children { child.layer.collectNamedParameters(prefix: joined(prefix, child.name), into: &result) }
  }

  private func collectNamedBuffers(prefix: String, into result: inout [(name: String, buffer: Buffer)]) {
    for own in ownBuffers { result.append((prefix + own.name, own.buffer)) }
    for child in children { child.layer.collectNamedBuffers(prefix: joined(prefix, child.name), into: &result) }
  }

  /// The prefix for a child's names: `prefix` plus `name.`, or `prefix` alone for a child
  /// named `""` (whose names read as its parent's own, as a `Residual`'s body).
  private func joined(_ prefix: String, _ name: String) -> String {
    name.isEmpty ? prefix : "\(prefix)\(name)."
  }
}
