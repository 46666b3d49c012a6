import CNNLayers
import CNNTensor

/// `C·H·W` after `layers` for one image of `inputShape` (`[C, H, W]`): the input size of the
/// first dense layer of a network sized by its input. Traps, naming the layer, when the image
/// does not fit (`ModelName.summary` checks first and throws instead).
func flattenedFeatures(after layers: [any Layer], inputShape: Shape) -> Int {
  do {
    return try Sequential(layers).outputShape(for: [1] + inputShape).scalarCount
  } catch {
    preconditionFailure(error.description)
  }
}
