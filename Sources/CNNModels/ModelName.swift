import CNNLayers
import CNNTensor

/// The networks `cnn` can build by name (`--model resnet18`).
///
/// Seven are sized by their input (`simple-convnet`, `deep-convnet`, `mnist-cnn`, `cifar-cnn`,
/// `lenet5`, `lenet5-rbf`, `alexnet-original`): their first dense layer is as wide as the flattened
/// features of the image shape they are built for. The torchvision networks end in adaptive
/// or global pooling and take any image large enough for their convolutions.
public enum ModelName: String, CaseIterable, Sendable {
  /// The seeds' SimpleConvNet (conv 30 5×5, ReLU, max-pool 2×2, affine 100, ReLU, affine 10).
  case simpleConvNet = "simple-convnet"
  /// *Deep Learning from Scratch*'s six-convolution network (`DeepConvNet`).
  case deepConvNet = "deep-convnet"
  /// Seed 003's MNIST network (`MNISTCNN`).
  case mnistCNN = "mnist-cnn"
  /// Seed 003's CIFAR-10 network (`CIFARCNN`).
  case cifarCNN = "cifar-cnn"
  /// LeNet-5 as in the seed 004 table (`LeNet5`).
  case lenet5
  /// LeNet-5 with the paper's Euclidean RBF output units (`LeNet5(output: .euclideanRBF)`).
  case lenet5RBF = "lenet5-rbf"
  /// AlexNet as published, with its two-GPU groups (`AlexNetOriginal`).
  case alexNetOriginal = "alexnet-original"
  /// torchvision's AlexNet (`AlexNet`).
  case alexNet = "alexnet"
  /// VGG-11, -13, -16, -19 (`VGG`).
  case vgg11, vgg13, vgg16, vgg19
  /// VGG-11, -13, -16, -19 with batch normalization (`VGG(_:batchNorm: true)`).
  case vgg11BN = "vgg11-bn"
  case vgg13BN = "vgg13-bn"
  case vgg16BN = "vgg16-bn"
  case vgg19BN = "vgg19-bn"
  /// Inception v1 (`GoogLeNet`).
  case googLeNet = "googlenet"
  /// ResNet-18 … ResNet-152 (`ResNet`).
  case resNet18 = "resnet18"
  case resNet34 = "resnet34"
  case resNet50 = "resnet50"
  case resNet101 = "resnet101"
  case resNet152 = "resnet152"

  /// The image shape `[C, H, W]` of the paper or seed.
  public var defaultInputShape: Shape {
    switch self {
    case .simpleConvNet, .deepConvNet, .mnistCNN, .lenet5, .lenet5RBF: return [1, 28, 28]
    case .cifarCNN: return [3, 32, 32]
    case .alexNetOriginal: return [3, 227, 227]
    default: return [3, 224, 224]
    }
  }

  /// The class count of the paper or seed: 10 for the MNIST and CIFAR-10 networks, 1000 for
  /// the ImageNet ones.
  public var defaultClassCount: Int {
    switch self {
    case .simpleConvNet, .deepConvNet, .mnistCNN, .cifarCNN, .lenet5, .lenet5RBF: return 10
    default: return 1000
    }
  }

  /// Whether the first dense layer is sized from the input (so the network must be built
  /// for the image size it will see).
  public var isSizedByInput: Bool {
    switch self {
    case .simpleConvNet, .deepConvNet, .mnistCNN, .cifarCNN, .lenet5, .lenet5RBF, .alexNetOriginal: return true
    default: return false
    }
  }

  /// Builds the network for images of `inputShape` (`[C, H, W]`) and `classCount` classes.
  ///
  /// The image must fit the network: a network sized by its input traps, naming the layer,
  /// when it does not. `ModelSummary(model:inputShape:classCount:)` checks first and throws.
  ///
  /// - Parameter initialization: How weights are drawn; `nil` for the model's own default
  ///   (documented on each model).
  public func make(
    inputShape: Shape, classCount: Int, initialization: WeightInitialization? = nil,
    using generator: inout some RandomNumberGenerator
  ) -> any Layer {
    precondition(inputShape.rank == 3, "\(rawValue) takes an image shape [C, H, W], got \(inputShape)")
    precondition(classCount > 0, "\(rawValue) needs at least one class, got \(classCount)")
    let channels = inputShape[0]
    switch self {
    case .simpleConvNet:
      return SimpleConvNet(
        inputShape: inputShape, classCount: classCount,
        initialization: initialization ?? .normal(standardDeviation: 0.01), using: &generator)
    case .deepConvNet:
      return DeepConvNet(
        inputShape: inputShape, classCount: classCount, initialization: initialization ?? .he, using: &generator)
    case .mnistCNN:
      return MNISTCNN(
        inputShape: inputShape, classCount: classCount, initialization: initialization ?? .he, using: &generator)
    case .cifarCNN:
      return CIFARCNN(
        inputShape: inputShape, classCount: classCount, initialization: initialization ?? .he, using: &generator)
    case .lenet5:
      return LeNet5(
        inputShape: inputShape, classCount: classCount, initialization: initialization ?? .xavier, using: &generator)
    case .lenet5RBF:
      return LeNet5(
        inputShape: inputShape, classCount: classCount, initialization: initialization ?? .xavier,
        output: .euclideanRBF, using: &generator)
    case .alexNetOriginal:
      return AlexNetOriginal(
        inputShape: inputShape, classCount: classCount, initialization: initialization ?? .he, using: &generator)
    case .alexNet:
      return AlexNet(
        classCount: classCount, inputChannels: channels, initialization: initialization ?? .pytorchDefault,
        using: &generator)
    case .vgg11, .vgg13, .vgg16, .vgg19, .vgg11BN, .vgg13BN, .vgg16BN, .vgg19BN:
      let (configuration, batchNorm) = vggConfiguration
      return VGG(
        configuration, batchNorm: batchNorm, classCount: classCount, inputChannels: channels,
        initialization: initialization ?? .he, using: &generator)
    case .googLeNet:
      return GoogLeNet(
        classCount: classCount, inputChannels: channels, initialization: initialization ?? .he, using: &generator)
    case .resNet18, .resNet34, .resNet50, .resNet101, .resNet152:
      return ResNet(
        depth: resNetDepth, classCount: classCount, inputChannels: channels, initialization: initialization ?? .he,
        using: &generator)
    }
  }

  private var vggConfiguration: (VGG.Configuration, batchNorm: Bool) {
    switch self {
    case .vgg11BN: return (.vgg11, true)
    case .vgg13: return (.vgg13, false)
    case .vgg13BN: return (.vgg13, true)
    case .vgg16: return (.vgg16, false)
    case .vgg16BN: return (.vgg16, true)
    case .vgg19: return (.vgg19, false)
    case .vgg19BN: return (.vgg19, true)
    default: return (.vgg11, false)
    }
  }

  private var resNetDepth: ResNet.Depth {
    switch self {
    case .resNet34: return .resNet34
    case .resNet50: return .resNet50
    case .resNet101: return .resNet101
    case .resNet152: return .resNet152
    default: return .resNet18
    }
  }
}
