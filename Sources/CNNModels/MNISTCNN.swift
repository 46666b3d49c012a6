import CNNLayers
import CNNTensor

/// The MNIST network of seed 003, the Keras port of TensorFlow's "Deep MNIST for Experts"
/// tutorial (itself after LeCun et al., 1998).
///
/// `conv 32@5×5 same → ReLU → max-pool 2 s2 → conv 64@5×5 same → ReLU → max-pool 2 s2 →
/// flatten → dense 1024 → ReLU → dense 10`.
///
/// Shape: `[N, 1, 28, 28]` → 32@28×28 → 14×14 → 64@14×14 → 7×7 → `[N, 3136]` (`7·7·64`) →
/// `[N, 1024]` → logits `[N, classCount]`.
///
/// Parameters: `5·5·1·32 + 32 = 832`, `5·5·32·64 + 64 = 51,264`,
/// `3136·1024 + 1024 = 3,212,288`, `1024·10 + 10 = 10,250`; 3,274,634 in all.
/// The seed trains it with Adam (10⁻⁴), batches of 50, for 10,000 steps. Keras initializes
/// with Glorot-uniform; CNNKit uses He-normal for its ReLUs. Names follow `nn.Sequential`
/// (`0.weight`, `3.weight`, `7.weight`, `9.weight`).
public final class MNISTCNN: Sequential {
  /// - Parameters:
  ///   - inputShape: `[C, H, W]` of one image; `[1, 28, 28]` for MNIST. The first dense
  ///     layer is sized from it.
  ///   - classCount: Outputs (10).
  ///   - initialization: How weights are drawn (He-normal, for the ReLUs).
  public init(
    inputShape: Shape = [1, 28, 28], classCount: Int = 10, initialization: WeightInitialization = .he,
    using generator: inout some RandomNumberGenerator
  ) {
    precondition(inputShape.rank == 3, "MNISTCNN takes an image shape [C, H, W], got \(inputShape)")
    let features: [any Layer] = [
      Conv2D(
        inputChannels: inputShape[0], outputChannels: 32, kernelSize: 5, padding: .same, initialization: initialization,
        using: &generator),
      ReLU(),
      MaxPool2D(kernelSize: 2, stride: 2),
      Conv2D(
        inputChannels: 32, outputChannels: 64, kernelSize: 5, padding: .same, initialization: initialization,
        using: &generator),
      ReLU(),
      MaxPool2D(kernelSize: 2, stride: 2),
    ]
    let featureCount = flattenedFeatures(after: features, inputShape: inputShape)
    super.init {
      features
      Flatten()
      Linear(inputFeatures: featureCount, outputFeatures: 1024, initialization: initialization, using: &generator)
      ReLU()
      Linear(inputFeatures: 1024, outputFeatures: classCount, initialization: initialization, using: &generator)
    }
  }
}
