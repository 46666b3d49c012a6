import CNNTensor

/// Why `Optimizer.loadState(_:for:)` refused a state.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
  /// A key that names no parameter in the list, or a state this optimizer does not keep.
  case unexpectedKey(String)
  /// A key this optimizer needs for a parameter whose other keys are present.
  case missingKey(String)
  /// A state tensor whose shape differs from its parameter's (or from `[]` for a step count).
  case shapeMismatch(key: String, expected: Shape, found: Shape)
  /// A step count that is not a whole number of at least 1.
  case invalidStep(key: String, value: Float)

  public var description: String {
    let hint = "---> HINT: load the state into the same kind of optimizer, configured the same way, "
      + "for the same parameters in the same order as when it was saved."
    switch self {
    case .unexpectedKey(let key):
      return "Unexpected optimizer state key \"\(key)\".\n\(hint)"
    case .missingKey(let key):
      return "Missing optimizer state key \"\(key)\".\n\(hint)"
    case .shapeMismatch(let key, let expected, let found):
      return "Optimizer state \"\(key)\" has shape \(found), expected \(expected).\n\(hint)"
    case .invalidStep(let key, let value):
      return "Optimizer state \"\(key)\" is \(value), not a step count (a whole number ≥ 1).\n\(hint)"
    }
  }
}
