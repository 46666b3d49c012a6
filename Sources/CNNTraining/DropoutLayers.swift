import CNNLayers

/// The `Dropout` layers inside `model`, each once, in the order of a depth-first walk over
/// stored properties (the order `namedParameters` uses).
func dropoutLayers(in model: any Layer) -> [Dropout] {
  var result: [Dropout] = []
  var seen: Set<ObjectIdentifier> = []
  collectDropouts(from: model, into: &result, seen: &seen)
  return result
}

private func collectDropouts(from value: Any, into result: inout [Dropout], seen: inout Set<ObjectIdentifier>) {
  switch value {
  case let dropout as Dropout:
    if seen.insert(ObjectIdentifier(dropout)).inserted { result.append(dropout) }
  case let layer as any Layer:
    guard seen.insert(ObjectIdentifier(layer)).inserted else { return }
    var levels: [Mirror] = []
    var mirror: Mirror? = Mirror(reflecting: layer)
    while let current = mirror {
      levels.append(current)
      mirror = current.superclassMirror
    }
    for level in levels.reversed() {
      for child in level.children { collectDropouts(from: child.value, into: &result, seen: &seen) }
    }
  case let array as [Any]:
    for element in array { collectDropouts(from: element, into: &result, seen: &seen) }
  default:
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional, let wrapped = mirror.children.first {
      collectDropouts(from: wrapped.value, into: &result, seen: &seen)
    }
  }
}
