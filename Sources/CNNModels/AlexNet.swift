import CNNLayers
import CNNTensor

/// AlexNet as torchvision builds it (`torchvision.models.alexnet`), the single-GPU variant of
/// "One weird trick for parallelizing convolutional neural networks" (Krizhevsky, 2014,
/// arXiv:1404.5997), after Krizhevsky, Sutskever & Hinton (2012). The seed's two-GPU
/// original is `AlexNetOriginal`.
///
/// `features`: conv 64@11×11 s4 p2 → ReLU → max-pool 3 s2 → conv 192@5×5 p2 → ReLU →
/// max-pool 3 s2 → conv 384@3×3 p1 → ReLU → conv 256@3×3 p1 → ReLU → conv 256@3×3 p1 → ReLU →
/// max-pool 3 s2; `avgpool`: adaptive average pooling to 6×6; flatten; `classifier`:
/// dropout 0.5 → dense 4096 → ReLU → dropout 0.5 → dense 4096 → ReLU → dense `classCount`.
///
/// Shape: `[N, 3, 224, 224]` → 64@55×55 → 27×27 → 192@27×27 → 13×13 → 384, 256, 256@13×13 →
/// 6×6 → (adaptive) 6×6 → `[N, 9216]` → `[N, classCount]`. The adaptive pooling makes any
/// input from 63×63 up work (at 63×63 the last pooling gives 1×1, repeated to 6×6).
///
/// Parameters: 61,100,840 for 1000 classes, torchvision's count. Names and shapes are
/// torchvision's `state_dict` keys: `features.0.weight [64, 3, 11, 11]`, `features.3.weight`,
/// `features.6.weight`, `features.8.weight`, `features.10.weight`, `classifier.1.weight
/// [4096, 9216]`, `classifier.4.weight`, `classifier.6.weight`, and their biases.
/// Weights are drawn as torchvision does, with PyTorch's default (`.pytorchDefault`).
public final class AlexNet: LayerChain {
  /// The convolutions and poolings.
  public let features: Sequential
  /// Adaptive average pooling to 6×6.
  public let avgpool = AdaptiveAvgPool2D(outputSize: 6)
  /// `torch.flatten(x, 1)`.
  public let flatten = Flatten()
  /// Dropout, dense layers and ReLUs.
  public let classifier: Sequential

  /// - Parameters:
  ///   - classCount: Outputs (1000).
  ///   - inputChannels: Channels of the images (3).
  ///   - initialization: How weights are drawn (PyTorch's default, which torchvision's AlexNet keeps).
  public init(
    classCount: Int = 1000, inputChannels: Int = 3, initialization: WeightInitialization = .pytorchDefault,
    using generator: inout some RandomNumberGenerator
  ) {
    features = Sequential {
      Conv2D(
        inputChannels: inputChannels, outputChannels: 64, kernelSize: 11, stride: 4, padding: 2,
        initialization: initialization, using: &generator)
      ReLU()
      MaxPool2D(kernelSize: 3, stride: 2)
      Conv2D(
        inputChannels: 64, outputChannels: 192, kernelSize: 5, padding: 2, initialization: initialization,
        using: &generator)
      ReLU()
      MaxPool2D(kernelSize: 3, stride: 2)
      Conv2D(
        inputChannels: 192, outputChannels: 384, kernelSize: 3, padding: 1, initialization: initialization,
        using: &generator)
      ReLU()
      Conv2D(
        inputChannels: 384, outputChannels: 256, kernelSize: 3, padding: 1, initialization: initialization,
        using: &generator)
      ReLU()
      Conv2D(
        inputChannels: 256, outputChannels: 256, kernelSize: 3, padding: 1, initialization: initialization,
        using: &generator)
      ReLU()
      MaxPool2D(kernelSize: 3, stride: 2)
    }
    classifier = Sequential {
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: 256 * 6 * 6, outputFeatures: 4096, initialization: initialization, using: &generator)
      ReLU()
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: 4096, outputFeatures: 4096, initialization: initialization, using: &generator)
      ReLU()
      Linear(inputFeatures: 4096, outputFeatures: classCount, initialization: initialization, using: &generator)
    }
  }

  public var children: [(name: String, layer: any Layer)] {
    [("features", features), ("avgpool", avgpool), ("flatten", flatten), ("classifier", classifier)]
  }
}
