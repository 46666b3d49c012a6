import CNNLayers
import CNNTensor

/// ResNet (He, Zhang, Ren & Sun, 2015, "Deep Residual Learning for Image Recognition",
/// arXiv:1512.03385), 18 to 152 layers, as torchvision builds it (`torchvision.models.resnet50`
/// and its siblings; the "v1.5" form that strides the 3×3 convolution of a bottleneck).
///
/// Stem: `conv1` 64@7×7 s2 p3 (no bias) → `bn1` → `relu` → `maxpool` 3×3 s2 p1. Then four
/// stages `layer1`…`layer4` of residual blocks with 64, 128, 256 and 512 base channels, the
/// first block of stages 2–4 halving the image with stride 2; then global average pooling
/// and `fc`. A block is a `Residual`: `y = ReLU(F(x) + shortcut(x))`, where the shortcut is
/// the identity, or `downsample` (1×1 convolution with the block's stride + batch
/// normalization) where the shape changes.
/// - Basic block (ResNet-18/34): `F` = conv 3×3 → BN → ReLU → conv 3×3 → BN; expansion 1.
/// - Bottleneck (ResNet-50/101/152): `F` = conv 1×1 → BN → ReLU → conv 3×3 (stride) → BN →
///   ReLU → conv 1×1 (4× the channels) → BN; the 1×1 convolutions cut the 3×3's cost.
///
/// Shape: `[N, 3, 224, 224]` → 64@112 → 56 → layer1 `64·e`@56 → layer2 `128·e`@28 → layer3
/// `256·e`@14 → layer4 `512·e`@7 → `[N, 512·e]` → `[N, classCount]` (`e` = 1 or 4). Because
/// the pooling is global, any input from 1×1 up runs; 32×32 CIFAR images reach 1×1 in layer4
/// (training then needs batches of at least 2, for the batch normalization).
///
/// Parameters for 1000 classes, torchvision's counts: ResNet-18 11,689,512, ResNet-34
/// 21,797,672, ResNet-50 25,557,032, ResNet-101 44,549,160, ResNet-152 60,192,808.
/// Names are torchvision's `state_dict` keys: `conv1.weight`, `bn1.running_mean`,
/// `layer1.0.conv1.weight`, `layer1.0.bn1.running_var`, `layer1.0.downsample.0.weight`,
/// `layer1.0.downsample.1.weight`, `fc.weight`.
public final class ResNet: LayerChain {
  /// The depths of the paper's table 1.
  public enum Depth: String, CaseIterable, Sendable {
    case resNet18, resNet34, resNet50, resNet101, resNet152

    /// Blocks in `layer1`…`layer4`.
    public var blockCounts: [Int] {
      switch self {
      case .resNet18: return [2, 2, 2, 2]
      case .resNet34: return [3, 4, 6, 3]
      case .resNet50: return [3, 4, 6, 3]
      case .resNet101: return [3, 4, 23, 3]
      case .resNet152: return [3, 8, 36, 3]
      }
    }

    /// Whether the blocks are bottlenecks (50 layers and more) rather than basic blocks.
    public var usesBottleneck: Bool {
      switch self {
      case .resNet18, .resNet34: return false
      case .resNet50, .resNet101, .resNet152: return true
      }
    }

    /// Output channels per base channel of a block: 4 for bottlenecks, 1 for basic blocks.
    public var expansion: Int { usesBottleneck ? 4 : 1 }
  }

  /// The residual branch of torchvision's `BasicBlock`: conv 3×3 (stride) → BN → ReLU →
  /// conv 3×3 → BN. `Residual` adds the shortcut and applies the final ReLU.
  public final class BasicBranch: LayerChain {
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    public let relu = ReLU()
    public let conv2: Conv2D
    public let bn2: BatchNorm2D

    public init(
      inputChannels: Int, channels: Int, stride: Int, initialization: WeightInitialization = .he,
      using generator: inout some RandomNumberGenerator
    ) {
      conv1 = Conv2D(
        inputChannels: inputChannels, outputChannels: channels, kernelSize: 3, stride: Size2D(stride), padding: 1,
        bias: false, initialization: initialization, using: &generator)
      bn1 = BatchNorm2D(featureCount: channels)
      conv2 = Conv2D(
        inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, bias: false,
        initialization: initialization, using: &generator)
      bn2 = BatchNorm2D(featureCount: channels)
    }

    public var children: [(name: String, layer: any Layer)] {
      [("conv1", conv1), ("bn1", bn1), ("relu", relu), ("conv2", conv2), ("bn2", bn2)]
    }
  }

  /// The residual branch of torchvision's `Bottleneck`: conv 1×1 → BN → ReLU → conv 3×3
  /// (stride) → BN → ReLU → conv 1×1 (4× channels) → BN.
  public final class BottleneckBranch: LayerChain {
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    public let conv2: Conv2D
    public let bn2: BatchNorm2D
    public let conv3: Conv2D
    public let bn3: BatchNorm2D
    public let relu = ReLU()

    public init(
      inputChannels: Int, channels: Int, stride: Int, initialization: WeightInitialization = .he,
      using generator: inout some RandomNumberGenerator
    ) {
      conv1 = Conv2D(
        inputChannels: inputChannels, outputChannels: channels, kernelSize: 1, bias: false,
        initialization: initialization, using: &generator)
      bn1 = BatchNorm2D(featureCount: channels)
      conv2 = Conv2D(
        inputChannels: channels, outputChannels: channels, kernelSize: 3, stride: Size2D(stride), padding: 1,
        bias: false, initialization: initialization, using: &generator)
      bn2 = BatchNorm2D(featureCount: channels)
      conv3 = Conv2D(
        inputChannels: channels, outputChannels: channels * 4, kernelSize: 1, bias: false,
        initialization: initialization, using: &generator)
      bn3 = BatchNorm2D(featureCount: channels * 4)
    }

    public var children: [(name: String, layer: any Layer)] {
      [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3), ("relu", relu)]
    }

    /// The run order, which applies the one `relu` three times.
    public var chain: [any Layer] { [conv1, bn1, relu, conv2, bn2, relu, conv3, bn3] }
  }

  /// Which network.
  public let depth: Depth
  public let conv1: Conv2D
  public let bn1: BatchNorm2D
  public let relu = ReLU()
  public let maxpool = MaxPool2D(kernelSize: 3, stride: 2, padding: 1)
  public let layer1: Sequential
  public let layer2: Sequential
  public let layer3: Sequential
  public let layer4: Sequential
  /// Adaptive average pooling to 1×1 and flattening, in one.
  public let avgpool = GlobalAvgPool2D()
  public let fc: Linear

  /// - Parameters:
  ///   - depth: `.resNet18`, `.resNet34`, `.resNet50`, `.resNet101` or `.resNet152`.
  ///   - classCount: Outputs (1000).
  ///   - inputChannels: Channels of the images (3).
  ///   - initialization: How weights are drawn (He-normal, for the ReLUs).
  public init(
    depth: Depth, classCount: Int = 1000, inputChannels: Int = 3, initialization: WeightInitialization = .he,
    using generator: inout some RandomNumberGenerator
  ) {
    self.depth = depth
    conv1 = Conv2D(
      inputChannels: inputChannels, outputChannels: 64, kernelSize: 7, stride: 2, padding: 3, bias: false,
      initialization: initialization, using: &generator)
    bn1 = BatchNorm2D(featureCount: 64)
    var channels = 64
    var stages: [Sequential] = []
    for (stage, (blocks, base)) in zip(depth.blockCounts, [64, 128, 256, 512]).enumerated() {
      var layers: [any Layer] = []
      for block in 0..<blocks {
        let stride = block == 0 && stage > 0 ? 2 : 1
        let output = base * depth.expansion
        let body: any Layer =
          depth.usesBottleneck
          ? BottleneckBranch(
            inputChannels: channels, channels: base, stride: stride, initialization: initialization, using: &generator)
          : BasicBranch(
            inputChannels: channels, channels: base, stride: stride, initialization: initialization, using: &generator)
        var downsample: Sequential? = nil
        if stride != 1 || channels != output {
          downsample = Sequential {
            Conv2D(
              inputChannels: channels, outputChannels: output, kernelSize: 1, stride: Size2D(stride), bias: false,
              initialization: initialization, using: &generator)
            BatchNorm2D(featureCount: output)
          }
        }
        layers.append(Residual(body: body, downsample: downsample, activation: ReLU()))
        channels = output
      }
      stages.append(Sequential(layers))
    }
    (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3])
    fc = Linear(
      inputFeatures: 512 * depth.expansion, outputFeatures: classCount, initialization: initialization,
      using: &generator)
  }

  public var children: [(name: String, layer: any Layer)] {
    [("conv1", conv1), ("bn1", bn1), ("relu", relu), ("maxpool", maxpool), ("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4), ("avgpool", avgpool), ("fc", fc)]
  }
}
