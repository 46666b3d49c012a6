import CNNLayers
import CNNTensor

/// One parameter's optimizer state: a step count and one buffer per named slot, each holding as
/// many elements as the parameter.
///
/// The buffers are raw allocations so that an update loop can read and write several of them
/// at once, with no copy-on-write check and no exclusivity conflict.
final class ParameterState {
  /// Kept alive so that its `ObjectIdentifier`, the key of this state, is never reused.
  let parameter: Parameter
  /// The parameter's shape when the state was created.
  let shape: Shape
  /// The number of updates applied so far (PyTorch's `state["step"]`).
  var step = 0
  /// One buffer per slot, in the order of `ParameterStates.slotNames`.
  let slots: [UnsafeMutableBufferPointer<Float>]

  init(parameter: Parameter, initialValues: [Float]) {
    self.parameter = parameter
    self.shape = parameter.shape
    let count = parameter.shape.scalarCount
    self.slots = initialValues.map { value in
      // At least one element so that the allocation has an address even for an empty shape.
      let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
      storage.initialize(repeating: value, count: count)
      return UnsafeMutableBufferPointer(start: storage, count: count)
    }
  }

  deinit {
    for slot in slots { slot.baseAddress?.deallocate() }
  }
}

/// The per-parameter state of one optimizer, keyed by parameter identity, with the export and
/// import behind `Optimizer.stateTensors(for:)` and `Optimizer.loadState(_:for:)`.
struct ParameterStates {
  /// PyTorch's names for the slots (`["exp_avg", "exp_avg_sq"]`), in buffer order.
  let slotNames: [String]
  /// The value each slot starts at (AdaGrad's `initial_accumulator_value`, otherwise 0).
  let initialValues: [Float]
  private var table: [ObjectIdentifier: ParameterState] = [:]

  init(slots: [(name: String, initialValue: Float)]) {
    self.slotNames = slots.map(\.name)
    self.initialValues = slots.map(\.initialValue)
  }

  /// The state of `parameter`, created at step 0 with fresh slots on first use.
  mutating func state(for parameter: Parameter) -> ParameterState {
    let key = ObjectIdentifier(parameter)
    if let state = table[key] {
      precondition(
        state.shape == parameter.shape,
        "A parameter's shape changed from \(state.shape) to \(parameter.shape) after the optimizer created state for it")
      return state
    }
    let state = ParameterState(parameter: parameter, initialValues: initialValues)
    table[key] = state
    return state
  }

  /// `"<index>.step"` and `"<index>.<slot>"` for every parameter in `parameters` that has state.
  func export(for parameters: [Parameter]) -> [String: Tensor] {
    var tensors: [String: Tensor] = [:]
    for (index, parameter) in parameters.enumerated() {
      guard let state = table[ObjectIdentifier(parameter)] else { continue }
      tensors["\(index).step"] = Tensor(shape: [], scalars: [Float(state.step)])
      for (name, slot) in zip(slotNames, state.slots) {
        tensors["\(index).\(name)"] = Tensor(shape: state.shape, scalars: Array(slot))
      }
    }
    return tensors
  }

  /// Validates all of `tensors` against `parameters`, then replaces their state.
  mutating func load(_ tensors: [String: Tensor], for parameters: [Parameter]) throws(OptimizerStateError) {
    // Group by parameter index; reject anything that is not "<index>.<known name>".
    var byIndex: [Int: [String: Tensor]] = [:]
    for key in tensors.keys.sorted() {
      guard let dot = key.firstIndex(of: "."), let index = Int(key[..<dot]), String(index) == key[..<dot],
        parameters.indices.contains(index)
      else { throw .unexpectedKey(key) }
      let name = String(key[key.index(after: dot)...])
      guard name == "step" || slotNames.contains(name) else { throw .unexpectedKey(key) }
      byIndex[index, default: [:]][name] = tensors[key]
    }
    var restored: [(index: Int, state: ParameterState)] = []
    for (index, named) in byIndex.sorted(by: { $0.key < $1.key }) {
      let parameter = parameters[index]
      guard let step = named["step"] else { throw .missingKey("\(index).step") }
      guard step.shape == [] else { throw .shapeMismatch(key: "\(index).step", expected: [], found: step.shape) }
      let steps = step[offset: 0]
      guard steps >= 1, steps <= 16_777_216, steps.rounded() == steps else {
        throw .invalidStep(key: "\(index).step", value: steps)
      }
      let state = ParameterState(parameter: parameter, initialValues: initialValues)
      state.step = Int(steps)
      for (name, slot) in zip(slotNames, state.slots) {
        let key = "\(index).\(name)"
        guard let tensor = named[name] else { throw .missingKey(key) }
        guard tensor.shape == parameter.shape else {
          throw .shapeMismatch(key: key, expected: parameter.shape, found: tensor.shape)
        }
        tensor.withUnsafeBufferPointer { source in _ = slot.update(fromContentsOf: source) }
      }
      restored.append((index, state))
    }
    for parameter in parameters { table[ObjectIdentifier(parameter)] = nil }
    for (index, state) in restored { table[ObjectIdentifier(parameters[index])] = state }
  }
}
