import CNNLayers
import CNNTensor

/// The networks `cnn` can build by name (`--model simple-convnet`).
public enum ModelName: String, CaseIterable, Sendable {
  /// The seeds' SimpleConvNet (conv 30 5×5, ReLU, max-pool 2×2, affine 100, ReLU, affine 10).
  case simpleConvNet = "simple-convnet"

  /// Builds the network for images of `inputShape` (`[C, H, W]`) and `classCount` classes.
  public func make(inputShape: Shape, classCount: Int, using generator: inout some RandomNumberGenerator) -> any Layer {
    switch self {
    case .simpleConvNet:
      return SimpleConvNet(inputShape: inputShape, classCount: classCount, using: &generator)
    }
  }
}
