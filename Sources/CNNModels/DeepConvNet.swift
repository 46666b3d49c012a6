import CNNLayers
import CNNTensor

/// DeepConvNet, the six-convolution network of Koki Saito, *Deep Learning from Scratch*
/// (2016), section 8.1 (`ch08/deep_convnet.py`), which reaches about 99.4 % on MNIST.
///
/// `[conv 3×3 → ReLU] ×2 → max-pool 2 → [conv 3×3 → ReLU] ×2 → max-pool 2 →
/// [conv 3×3 → ReLU] ×2 → max-pool 2 → affine 50 → ReLU → dropout 0.5 → affine 10 → dropout 0.5`,
/// with 16, 16, 32, 32, 64, 64 filters, stride 1 and padding 1, except padding 2 on the
/// fourth convolution, exactly as the book has it.
///
/// Shape: `[N, 1, 28, 28]` → 16@28×28 → 16@28×28 → pool 16@14×14 → 32@14×14 →
/// 32@16×16 (`(14 + 2·2 − 3)/1 + 1 = 16`) → pool 32@8×8 → 64@8×8 → 64@8×8 → pool 64@4×4 →
/// `[N, 1024]` → `[N, 50]` → logits `[N, classCount]`.
///
/// Parameters: `160 + 2,320 + 4,640 + 9,248 + 18,496 + 36,928 + 51,250 + 510 = 123,552`.
/// Weights use He initialization, as the book does (`√(2 / fan-in)`). The book applies
/// dropout to the logits too; it is kept (inference is unaffected).
///
/// Names follow `nn.Sequential` (the book's `W1`…`W8` are `0.weight`, `2.weight`, `5.weight`,
/// `7.weight`, `10.weight`, `12.weight`, `16.weight`, `19.weight`).
public final class DeepConvNet: Sequential {
  /// - Parameters:
  ///   - inputShape: `[C, H, W]` of one image; `[1, 28, 28]` for MNIST. The first affine
  ///     layer is sized from it.
  ///   - classCount: Outputs (10).
  ///   - initialization: How weights are drawn (He-normal, for the ReLUs).
  public init(
    inputShape: Shape = [1, 28, 28], classCount: Int = 10, initialization: WeightInitialization = .he,
    using generator: inout some RandomNumberGenerator
  ) {
    precondition(inputShape.rank == 3, "DeepConvNet takes an image shape [C, H, W], got \(inputShape)")
    func conv(_ input: Int, _ output: Int, padding: Padding = 1) -> Conv2D {
      Conv2D(
        inputChannels: input, outputChannels: output, kernelSize: 3, padding: padding, initialization: initialization,
        using: &generator)
    }
    let features: [any Layer] = [
      conv(inputShape[0], 16), ReLU(), conv(16, 16), ReLU(), MaxPool2D(kernelSize: 2, stride: 2),
      conv(16, 32), ReLU(), conv(32, 32, padding: 2), ReLU(), MaxPool2D(kernelSize: 2, stride: 2),
      conv(32, 64), ReLU(), conv(64, 64), ReLU(), MaxPool2D(kernelSize: 2, stride: 2),
    ]
    let featureCount = flattenedFeatures(after: features, inputShape: inputShape)
    super.init {
      features
      Flatten()
      Linear(inputFeatures: featureCount, outputFeatures: 50, initialization: initialization, using: &generator)
      ReLU()
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: 50, outputFeatures: classCount, initialization: initialization, using: &generator)
      Dropout(rate: 0.5, using: &generator)
    }
  }
}
