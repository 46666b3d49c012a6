import CNNLayers
import CNNTensor

/// SimpleConvNet, the convolutional network of the seeds (000, 004), from Koki Saito,
/// *Deep Learning from Scratch* (2016), chapter 7 (`ch07/simple_convnet.py`).
///
/// `conv 30@5×5 (s1, p0) → ReLU → max-pool 2×2 s2 → affine 100 → ReLU → affine 10`.
/// Shape: input `[N, 1, 28, 28]` → conv `[N, 30, 24, 24]` → pool `[N, 30, 12, 12]` →
/// `[N, 4320]` → `[N, 100]` → logits `[N, classCount]`.
/// Parameters: `5·5·1·30 + 30 = 780`, `4320·100 + 100 = 432,100`, `100·10 + 10 = 1,010`;
/// 433,890 in all. The book initialises every weight from `N(0, 0.01²)` (`weight_init_std`),
/// the default here; its softmax sits in the loss, so the network outputs logits.
/// Parameter names follow PyTorch's `nn.Sequential`: `0.weight`, `4.weight`, `6.weight`.
public final class SimpleConvNet: Sequential {
  /// - Parameters:
  ///   - inputShape: `[C, H, W]` of one image; `[1, 28, 28]` for MNIST.
  ///   - filterCount: Filters of the convolution (30).
  ///   - filterSize: Side of the square filters (5).
  ///   - hiddenUnits: Width of the hidden affine layer (100).
  ///   - classCount: Outputs (10).
  ///   - initialization: How weights are drawn; the book's `.normal(standardDeviation: 0.01)`.
  public init(
    inputShape: Shape = [1, 28, 28], filterCount: Int = 30, filterSize: Int = 5, hiddenUnits: Int = 100,
    classCount: Int = 10, initialization: WeightInitialization = .normal(standardDeviation: 0.01),
    using generator: inout some RandomNumberGenerator
  ) {
    precondition(inputShape.rank == 3, "SimpleConvNet takes an image shape [C, H, W], got \(inputShape)")
    let conv = Conv2D(
      inputChannels: inputShape[0], outputChannels: filterCount, kernelSize: Size2D(filterSize),
      initialization: initialization, using: &generator)
    let pool = MaxPool2D(kernelSize: 2, stride: 2)
    let flattened = flattenedFeatures(after: [conv, pool], inputShape: inputShape)
    super.init {
      conv
      ReLU()
      pool
      Flatten()
      Linear(inputFeatures: flattened, outputFeatures: hiddenUnits, initialization: initialization, using: &generator)
      ReLU()
      Linear(inputFeatures: hiddenUnits, outputFeatures: classCount, initialization: initialization, using: &generator)
    }
  }
}
