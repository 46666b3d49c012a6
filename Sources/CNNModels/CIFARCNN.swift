import CNNLayers
import CNNTensor

/// The CIFAR-10 network of seed 003, after TensorFlow's CIFAR-10 tutorial model
/// (Krizhevsky's `cifar10` example).
///
/// `conv 64@5×5 same → ReLU → max-pool 3×3 s2 same → conv 64@5×5 same → ReLU →
/// max-pool 3×3 s2 same → [conv 128@3×3 same → ReLU] ×3 → flatten → dense 384 → ReLU →
/// dropout 0.2 → dense 10`.
///
/// Shape: `[N, 3, 32, 32]` → 64@32×32 → 64@16×16 → 64@16×16 → 64@8×8 → 128@8×8 (×3) →
/// `[N, 8192]` (`8·8·128`) → `[N, 384]` → logits `[N, classCount]`.
///
/// Deviation, and why: the seed's Keras code leaves its pooling at Keras's default `valid`
/// padding, which gives `(32 − 3)/2 + 1 = 15` and then 7, yet its own comment (and the
/// TensorFlow original it ports, which pools with `padding='SAME'`) says 8×8×128. CNNKit
/// follows the comment: 'same' pooling (`⌈32/2⌉ = 16`, `⌈16/2⌉ = 8`).
///
/// Parameters: `5·5·3·64 + 64 = 4,864`, `5·5·64·64 + 64 = 102,464`,
/// `3·3·64·128 + 128 = 73,856`, `3·3·128·128 + 128 = 147,584` (×2),
/// `8192·384 + 384 = 3,146,112`, `384·10 + 10 = 3,850`; 3,626,314 in all.
/// The seed trains it with RMSprop (10⁻³) and batches of 128. Names follow `nn.Sequential`.
public final class CIFARCNN: Sequential {
  /// - Parameters:
  ///   - inputShape: `[C, H, W]` of one image; `[3, 32, 32]` for CIFAR-10. The first dense
  ///     layer is sized from it.
  ///   - classCount: Outputs (10).
  ///   - initialization: How weights are drawn (He-normal, for the ReLUs).
  public init(
    inputShape: Shape = [3, 32, 32], classCount: Int = 10, initialization: WeightInitialization = .he,
    using generator: inout some RandomNumberGenerator
  ) {
    precondition(inputShape.rank == 3, "CIFARCNN takes an image shape [C, H, W], got \(inputShape)")
    func conv(_ input: Int, _ output: Int, _ kernel: Size2D) -> Conv2D {
      Conv2D(
        inputChannels: input, outputChannels: output, kernelSize: kernel, padding: .same,
        initialization: initialization, using: &generator)
    }
    let features: [any Layer] = [
      conv(inputShape[0], 64, 5), ReLU(), MaxPool2D(kernelSize: 3, stride: 2, padding: .same),
      conv(64, 64, 5), ReLU(), MaxPool2D(kernelSize: 3, stride: 2, padding: .same),
      conv(64, 128, 3), ReLU(),
      conv(128, 128, 3), ReLU(),
      conv(128, 128, 3), ReLU(),
    ]
    let featureCount = flattenedFeatures(after: features, inputShape: inputShape)
    super.init {
      features
      Flatten()
      Linear(inputFeatures: featureCount, outputFeatures: 384, initialization: initialization, using: &generator)
      ReLU()
      Dropout(rate: 0.2, using: &generator)
      Linear(inputFeatures: 384, outputFeatures: classCount, initialization: initialization, using: &generator)
    }
  }
}
