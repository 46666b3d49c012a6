import CNNLayers
import CNNTensor

/// VGG (Simonyan & Zisserman, 2014, "Very Deep Convolutional Networks for Large-Scale Image
/// Recognition", arXiv:1409.1556), configurations A, B, D and E (VGG-11, -13, -16, -19), with
/// or without batch normalization, as torchvision builds them (`torchvision.models.vgg16`,
/// `vgg16_bn`, …).
///
/// `features`: stacks of 3×3 convolutions (padding 1, so `(H + 2·1 − 3)/1 + 1 = H`), each
/// followed by ReLU (or batch normalization and ReLU), with a 2×2 max-pooling of stride 2
/// after each stack; two 3×3 convolutions see a 5×5 window and three a 7×7 one, with fewer
/// parameters (`2·3²·C² < 5²·C²`). `avgpool`: adaptive average pooling to 7×7. `classifier`:
/// dense 4096 → ReLU → dropout 0.5 → dense 4096 → ReLU → dropout 0.5 → dense `classCount`.
///
/// Shape: `[N, 3, 224, 224]` → 64@224 → 112 → 128@112 → 56 → 256@56 → 28 → 512@28 → 14 →
/// 512@14 → 7 → (adaptive) 7×7 → `[N, 25088]` → `[N, classCount]`. Any input from 32×32 up
/// works (five poolings leave 1×1, repeated to 7×7).
///
/// Parameters for 1000 classes, torchvision's counts: VGG-11 132,863,336, VGG-13 133,047,848,
/// VGG-16 138,357,544, VGG-19 143,667,240; with batch normalization 132,868,840,
/// 133,053,736, 138,365,992, 143,678,248 (each normalization adds `2·K`). Of VGG-16's, the
/// first dense layer alone has `25088·4096 + 4096 = 102,764,544`.
///
/// Names are torchvision's `state_dict` keys: for VGG-16 `features.0.weight [64, 3, 3, 3]`,
/// `features.2.weight`, `features.5.weight`, …, `features.28.weight`, `classifier.0.weight
/// [4096, 25088]`, `classifier.3.weight`, `classifier.6.weight`; with batch normalization
/// every convolution takes three slots, e.g. `features.1.weight`, `features.1.running_mean`.
/// The convolutions keep their biases in the batch-normalized forms, as torchvision's do.
public final class VGG: LayerChain {
  /// The convolution stacks of the paper's table 1.
  public enum Configuration: String, CaseIterable, Sendable {
    /// A: 8 convolutions + 3 dense layers.
    case vgg11
    /// B: 10 convolutions.
    case vgg13
    /// D: 13 convolutions.
    case vgg16
    /// E: 16 convolutions.
    case vgg19

    /// Convolutions per stack; every stack ends in a max-pooling.
    public var convolutionsPerStack: [Int] {
      switch self {
      case .vgg11: return [1, 1, 2, 2, 2]
      case .vgg13: return [2, 2, 2, 2, 2]
      case .vgg16: return [2, 2, 3, 3, 3]
      case .vgg19: return [2, 2, 4, 4, 4]
      }
    }

    /// The output channels of each stack.
    public static let stackWidths = [64, 128, 256, 512, 512]
  }

  /// Which network.
  public let configuration: Configuration
  /// Whether each convolution is followed by batch normalization.
  public let batchNorm: Bool
  /// The convolution stacks.
  public let features: Sequential
  /// Adaptive average pooling to 7×7.
  public let avgpool = AdaptiveAvgPool2D(outputSize: 7)
  /// `torch.flatten(x, 1)`.
  public let flatten = Flatten()
  /// Dense layers, ReLUs and dropout.
  public let classifier: Sequential

  /// - Parameters:
  ///   - configuration: `.vgg11`, `.vgg13`, `.vgg16` or `.vgg19`.
  ///   - batchNorm: Whether to insert batch normalization after each convolution (`vgg16_bn`).
  ///   - classCount: Outputs (1000).
  ///   - inputChannels: Channels of the images (3).
  ///   - initialization: How weights are drawn (He-normal; torchvision uses Kaiming-normal on
  ///     the fan-out for convolutions and `N(0, 0.01²)` for the dense layers).
  public init(
    _ configuration: Configuration, batchNorm: Bool = false, classCount: Int = 1000, inputChannels: Int = 3,
    initialization: WeightInitialization = .he, using generator: inout some RandomNumberGenerator
  ) {
    self.configuration = configuration
    self.batchNorm = batchNorm
    var layers: [any Layer] = []
    var channels = inputChannels
    for (count, width) in zip(configuration.convolutionsPerStack, Configuration.stackWidths) {
      for _ in 0..<count {
        layers.append(
          Conv2D(
            inputChannels: channels, outputChannels: width, kernelSize: 3, padding: 1, initialization: initialization,
            using: &generator))
        if batchNorm { layers.append(BatchNorm2D(featureCount: width)) }
        layers.append(ReLU())
        channels = width
      }
      layers.append(MaxPool2D(kernelSize: 2, stride: 2))
    }
    features = Sequential(layers)
    classifier = Sequential {
      Linear(inputFeatures: 512 * 7 * 7, outputFeatures: 4096, initialization: initialization, using: &generator)
      ReLU()
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: 4096, outputFeatures: 4096, initialization: initialization, using: &generator)
      ReLU()
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: 4096, outputFeatures: classCount, initialization: initialization, using: &generator)
    }
  }

  public var children: [(name: String, layer: any Layer)] {
    [("features", features), ("avgpool", avgpool), ("flatten", flatten), ("classifier", classifier)]
  }
}
