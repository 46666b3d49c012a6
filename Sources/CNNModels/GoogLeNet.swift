import CNNLayers
import CNNTensor

/// GoogLeNet, Inception v1 (Szegedy et al., 2014, "Going Deeper with Convolutions",
/// arXiv:1409.4842), as torchvision builds it (`torchvision.models.googlenet`) without the
/// auxiliary classifiers.
///
/// Stem: `conv1` 64@7×7 s2 p3 → `maxpool1` 3 s2 → `conv2` 64@1×1 → `conv3` 192@3×3 p1 →
/// `maxpool2` 3 s2; then inception modules 3a, 3b, `maxpool3`, 4a–4e, `maxpool4` (2 s2),
/// 5a, 5b; then global average pooling, dropout 0.2 and `fc`. Every convolution is a
/// `BasicConv2D` (convolution without bias, batch normalization with ε = 0.001, ReLU), and
/// the poolings round up (`ceil_mode=True`).
///
/// Each inception module concatenates four branches: `branch1` a 1×1 convolution;
/// `branch2` a 1×1 reduction then a 3×3; `branch3` a 1×1 reduction then a "5×5", which
/// torchvision builds as 3×3 (a known slip it keeps for its pretrained weights, and so does
/// CNNKit); `branch4` a 3×3 max-pooling (stride 1, padding 1) then a 1×1 projection. The
/// 1×1 reductions are the seeds' parameter saving: 4a's 5×5 branch costs
/// `1·1·480·16 + 3·3·16·48` weights instead of `3·3·480·48`.
///
/// Shape: `[N, 3, 224, 224]` → 64@112 → 56 → 192@56 → 28 → 256, 480@28 → 14 → 512, 512, 512,
/// 528, 832@14 → 7 → 832, 1024@7 → `[N, 1024]` → `[N, classCount]`. Any input from 15×15 up
/// works, as in torchvision (32×32 CIFAR images reach 1×1 at 5b; training then needs batches of 2 or more,
/// for the batch normalization).
///
/// Parameters: 6,624,904 for 1000 classes, torchvision's count (with `aux_logits=False`),
/// about 9× fewer than torchvision's AlexNet (61.1M) and 21× fewer than VGG-16 (138.4M); the
/// seeds quote the paper's "12× fewer than AlexNet" and 27× for VGG-16. Names are torchvision's
/// `state_dict` keys: `conv1.conv.weight`, `conv1.bn.running_mean`,
/// `inception3a.branch1.conv.weight`, `inception3a.branch2.0.conv.weight`,
/// `inception3a.branch4.1.bn.weight`, `fc.weight`. torchvision's `transform_input`
/// (re-normalizing ImageNet inputs for the original weights) is left to the data pipeline.
public final class GoogLeNet: LayerChain {
  /// torchvision's `BasicConv2d`: convolution (no bias) → batch normalization (ε = 0.001) → ReLU.
  public final class BasicConv2D: LayerChain {
    public let conv: Conv2D
    public let bn: BatchNorm2D
    public let relu = ReLU()

    public init(
      inputChannels: Int, outputChannels: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Padding = .valid,
      initialization: WeightInitialization = .he, using generator: inout some RandomNumberGenerator
    ) {
      conv = Conv2D(
        inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
        padding: padding, bias: false, initialization: initialization, using: &generator)
      bn = BatchNorm2D(featureCount: outputChannels, epsilon: 0.001)
    }

    public var children: [(name: String, layer: any Layer)] {
      [("conv", conv), ("bn", bn), ("relu", relu)]
    }
  }

  /// An inception module: `Concatenate` of the four branches, `branch1`…`branch4`, with
  /// `ch1x1 + ch3x3 + ch5x5 + poolProjection` output channels.
  public static func inception(
    _ inputChannels: Int, ch1x1: Int, ch3x3Reduce: Int, ch3x3: Int, ch5x5Reduce: Int, ch5x5: Int,
    poolProjection: Int, initialization: WeightInitialization = .he, using generator: inout some RandomNumberGenerator
  ) -> Concatenate {
    Concatenate {
      BasicConv2D(
        inputChannels: inputChannels, outputChannels: ch1x1, kernelSize: 1, initialization: initialization,
        using: &generator)
      Sequential {
        BasicConv2D(
          inputChannels: inputChannels, outputChannels: ch3x3Reduce, kernelSize: 1, initialization: initialization,
          using: &generator)
        BasicConv2D(
          inputChannels: ch3x3Reduce, outputChannels: ch3x3, kernelSize: 3, padding: 1, initialization: initialization,
          using: &generator)
      }
      Sequential {
        BasicConv2D(
          inputChannels: inputChannels, outputChannels: ch5x5Reduce, kernelSize: 1, initialization: initialization,
          using: &generator)
        BasicConv2D(
          inputChannels: ch5x5Reduce, outputChannels: ch5x5, kernelSize: 3, padding: 1, initialization: initialization,
          using: &generator)
      }
      Sequential {
        CeilModeMaxPool2D(kernelSize: 3, stride: 1, padding: 1)
        BasicConv2D(
          inputChannels: inputChannels, outputChannels: poolProjection, kernelSize: 1, initialization: initialization,
          using: &generator)
      }
    }
  }

  public let conv1: BasicConv2D
  public let maxpool1 = CeilModeMaxPool2D(kernelSize: 3, stride: 2)
  public let conv2: BasicConv2D
  public let conv3: BasicConv2D
  public let maxpool2 = CeilModeMaxPool2D(kernelSize: 3, stride: 2)
  public let inception3a: Concatenate
  public let inception3b: Concatenate
  public let maxpool3 = CeilModeMaxPool2D(kernelSize: 3, stride: 2)
  public let inception4a: Concatenate
  public let inception4b: Concatenate
  public let inception4c: Concatenate
  public let inception4d: Concatenate
  public let inception4e: Concatenate
  public let maxpool4 = CeilModeMaxPool2D(kernelSize: 2, stride: 2)
  public let inception5a: Concatenate
  public let inception5b: Concatenate
  /// Adaptive average pooling to 1×1 and flattening, in one.
  public let avgpool = GlobalAvgPool2D()
  public let dropout: Dropout
  public let fc: Linear

  /// - Parameters:
  ///   - classCount: Outputs (1000).
  ///   - inputChannels: Channels of the images (3).
  ///   - initialization: How weights are drawn (He-normal, for the ReLUs).
  public init(
    classCount: Int = 1000, inputChannels: Int = 3, initialization: WeightInitialization = .he,
    using generator: inout some RandomNumberGenerator
  ) {
    conv1 = BasicConv2D(
      inputChannels: inputChannels, outputChannels: 64, kernelSize: 7, stride: 2, padding: 3,
      initialization: initialization, using: &generator)
    conv2 = BasicConv2D(
      inputChannels: 64, outputChannels: 64, kernelSize: 1, initialization: initialization, using: &generator)
    conv3 = BasicConv2D(
      inputChannels: 64, outputChannels: 192, kernelSize: 3, padding: 1, initialization: initialization,
      using: &generator)
    func module(_ c: Int, _ a: Int, _ b: Int, _ d: Int, _ e: Int, _ f: Int, _ g: Int) -> Concatenate {
      Self.inception(
        c, ch1x1: a, ch3x3Reduce: b, ch3x3: d, ch5x5Reduce: e, ch5x5: f, poolProjection: g,
        initialization: initialization, using: &generator)
    }
    inception3a = module(192, 64, 96, 128, 16, 32, 32)
    inception3b = module(256, 128, 128, 192, 32, 96, 64)
    inception4a = module(480, 192, 96, 208, 16, 48, 64)
    inception4b = module(512, 160, 112, 224, 24, 64, 64)
    inception4c = module(512, 128, 128, 256, 24, 64, 64)
    inception4d = module(512, 112, 144, 288, 32, 64, 64)
    inception4e = module(528, 256, 160, 320, 32, 128, 128)
    inception5a = module(832, 256, 160, 320, 32, 128, 128)
    inception5b = module(832, 384, 192, 384, 48, 128, 128)
    dropout = Dropout(rate: 0.2, using: &generator)
    fc = Linear(inputFeatures: 1024, outputFeatures: classCount, initialization: initialization, using: &generator)
  }

  public var children: [(name: String, layer: any Layer)] {
    [
      ("conv1", conv1), ("maxpool1", maxpool1), ("conv2", conv2), ("conv3", conv3), ("maxpool2", maxpool2),
      ("inception3a", inception3a), ("inception3b", inception3b), ("maxpool3", maxpool3),
      ("inception4a", inception4a), ("inception4b", inception4b), ("inception4c", inception4c),
      ("inception4d", inception4d), ("inception4e", inception4e), ("maxpool4", maxpool4),
      ("inception5a", inception5a), ("inception5b", inception5b), ("avgpool", avgpool), ("dropout", dropout),
      ("fc", fc),
    ]
  }
}
