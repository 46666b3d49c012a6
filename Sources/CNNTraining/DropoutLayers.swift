import CNNLayers

/// The `Dropout` layers inside `model`, each once, in structural order (the order of
/// `namedParameters`): whose generators a checkpoint saves and a resume restores.
func dropoutLayers(in model: any Layer) -> [Dropout] {
  model.layers(ofType: Dropout.self)
}
