import CNNTensor

/// Distinct values spaced `spacing` apart in random order, none within `spacing / 2` of zero,
/// so a central difference of step < spacing / 2 never crosses a ReLU kink or a max/min tie.
func spacedInput(_ shape: Shape, spacing: Float = 0.05, using generator: inout SeededGenerator) -> Tensor {
  let count = shape.scalarCount
  var values = (0..<count).map { (Float($0) - Float(count / 2) + 0.5) * spacing }
  values.shuffle(using: &generator)
  return Tensor(shape: shape, scalars: values)
}
