import CNNLayers
import CNNTensor
import Testing

@testable import CNNModels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One network of the zoo and what is known about it.
struct ZooCase: Sendable, CustomTestStringConvertible {
  var model: ModelName
  /// The published (torchvision's) or computed total of learned scalars.
  var parameterCount: Int
  /// torchvision's `len(model.state_dict())` (parameters + buffers), when it has the network.
  var stateEntries: Int?
  /// Some `state_dict` keys and their shapes, copied from torchvision (or the layout documented
  /// on the model).
  var keys: [(name: String, shape: Shape)]
  /// A small batch that the network takes, for the forward and backward pass.
  var batch: Shape
  /// What a debug build checks (see `DebugCoverage`).
  var debugCoverage = DebugCoverage.everything

  var testDescription: String { model.rawValue }
}

/// In a debug build, drawing 130M weights one by one takes about 10 s, and a training step
/// costs time in proportion to the weights too (the GEMM packs them in unoptimized Swift);
/// the heaviest checks run in optimized builds or with `CNNKIT_FULL_ZOO=1`.
enum DebugCoverage: Sendable {
  /// Count, names, summary and a training step.
  case everything
  /// Count, names and summary; the training step only in a full run.
  case countsAndNames
  /// Only in a full run.
  case fullRunOnly
}

/// Whether this is a full run (see `DebugCoverage`).
let buildsHeavyModels: Bool = {
  #if DEBUG
    return environmentVariable("CNNKIT_FULL_ZOO") != nil
  #else
    return true
  #endif
}()

let zoo: [ZooCase] = [
  ZooCase(
    model: .simpleConvNet, parameterCount: 433_890, keys: [("0.weight", [30, 1, 5, 5]), ("4.weight", [100, 4320])],
    batch: [2, 1, 28, 28]),
  ZooCase(
    model: .deepConvNet, parameterCount: 123_552,
    keys: [
      ("0.weight", [16, 1, 3, 3]), ("7.weight", [32, 32, 3, 3]), ("16.weight", [50, 1024]), ("19.weight", [10, 50]),
    ],
    batch: [2, 1, 28, 28]),
  ZooCase(
    model: .mnistCNN, parameterCount: 3_274_634,
    keys: [
      ("0.weight", [32, 1, 5, 5]), ("3.weight", [64, 32, 5, 5]), ("7.weight", [1024, 3136]), ("9.weight", [10, 1024]),
    ],
    batch: [2, 1, 28, 28]),
  ZooCase(
    model: .cifarCNN, parameterCount: 3_626_314,
    keys: [
      ("0.weight", [64, 3, 5, 5]), ("10.weight", [128, 128, 3, 3]), ("13.weight", [384, 8192]),
      ("16.weight", [10, 384]),
    ],
    batch: [2, 3, 32, 32]),
  ZooCase(
    model: .lenet5, parameterCount: 61_706,
    keys: [
      ("0.weight", [6, 1, 5, 5]), ("3.weight", [16, 6, 5, 5]), ("6.weight", [120, 16, 5, 5]), ("9.weight", [84, 120]),
      ("11.weight", [10, 84]),
    ],
    batch: [2, 1, 28, 28]),
  ZooCase(
    // The paper's RBF output: 61,706 − 850 (the affine output's weights and biases); 8
    // parameter tensors plus the fixed codes' buffer.
    model: .lenet5RBF, parameterCount: 60_856, stateEntries: 9,
    keys: [("0.weight", [6, 1, 5, 5]), ("9.weight", [84, 120]), ("11.codes", [10, 84])],
    batch: [2, 1, 28, 28]),
  ZooCase(
    model: .alexNetOriginal, parameterCount: 60_965_224,
    keys: [
      ("0.weight", [96, 3, 11, 11]), ("4.weight", [256, 48, 5, 5]), ("8.weight", [384, 256, 3, 3]),
      ("10.weight", [384, 192, 3, 3]), ("12.weight", [256, 192, 3, 3]), ("17.weight", [4096, 9216]),
      ("22.weight", [1000, 4096]),
    ],
    batch: [1, 3, 67, 67]),
  ZooCase(
    model: .alexNet, parameterCount: 61_100_840, stateEntries: 16,
    keys: [
      ("features.0.weight", [64, 3, 11, 11]), ("features.10.bias", [256]), ("classifier.1.weight", [4096, 9216]),
      ("classifier.6.weight", [1000, 4096]),
    ],
    batch: [1, 3, 63, 63]),
  ZooCase(
    model: .vgg11, parameterCount: 132_863_336, stateEntries: 22,
    keys: [
      ("features.0.weight", [64, 3, 3, 3]), ("features.18.weight", [512, 512, 3, 3]),
      ("classifier.0.weight", [4096, 25088]),
      ("classifier.6.bias", [1000]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .fullRunOnly),
  ZooCase(
    model: .vgg13, parameterCount: 133_047_848, stateEntries: 26,
    keys: [
      ("features.0.weight", [64, 3, 3, 3]), ("features.22.weight", [512, 512, 3, 3]),
      ("classifier.3.weight", [4096, 4096]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .fullRunOnly),
  ZooCase(
    model: .vgg16, parameterCount: 138_357_544, stateEntries: 32,
    keys: [
      ("features.0.weight", [64, 3, 3, 3]), ("features.28.weight", [512, 512, 3, 3]),
      ("classifier.0.weight", [4096, 25088]),
      ("classifier.6.bias", [1000]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .countsAndNames),
  ZooCase(
    model: .vgg19, parameterCount: 143_667_240, stateEntries: 38,
    keys: [
      ("features.2.weight", [64, 64, 3, 3]), ("features.34.weight", [512, 512, 3, 3]),
      ("classifier.6.weight", [1000, 4096]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .fullRunOnly),
  ZooCase(
    model: .vgg11BN, parameterCount: 132_868_840, stateEntries: 62,
    keys: [
      ("features.1.weight", [64]), ("features.1.running_mean", [64]), ("features.25.weight", [512, 512, 3, 3]),
      ("classifier.0.weight", [4096, 25088]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .fullRunOnly),
  ZooCase(
    model: .vgg13BN, parameterCount: 133_053_736, stateEntries: 76,
    keys: [
      ("features.4.num_batches_tracked", []), ("features.32.running_var", [512]),
      ("classifier.6.weight", [1000, 4096]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .fullRunOnly),
  ZooCase(
    model: .vgg16BN, parameterCount: 138_365_992, stateEntries: 97,
    keys: [
      ("features.0.weight", [64, 3, 3, 3]), ("features.1.running_var", [64]), ("features.40.weight", [512, 512, 3, 3]),
      ("features.41.running_mean", [512]), ("classifier.0.weight", [4096, 25088]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .fullRunOnly),
  ZooCase(
    model: .vgg19BN, parameterCount: 143_678_248, stateEntries: 118,
    keys: [
      ("features.49.weight", [512, 512, 3, 3]), ("features.50.bias", [512]), ("classifier.6.weight", [1000, 4096]),
    ],
    batch: [1, 3, 32, 32], debugCoverage: .fullRunOnly),
  ZooCase(
    model: .googLeNet, parameterCount: 6_624_904, stateEntries: 344,
    keys: [
      ("conv1.conv.weight", [64, 3, 7, 7]), ("conv1.bn.running_mean", [64]),
      ("inception3a.branch1.conv.weight", [64, 192, 1, 1]),
      ("inception3a.branch2.0.conv.weight", [96, 192, 1, 1]), ("inception3a.branch3.1.conv.weight", [32, 16, 3, 3]),
      ("inception5b.branch4.1.bn.num_batches_tracked", []), ("fc.weight", [1000, 1024]),
    ],
    batch: [2, 3, 32, 32]),
  ZooCase(
    model: .resNet18, parameterCount: 11_689_512, stateEntries: 122,
    keys: [
      ("conv1.weight", [64, 3, 7, 7]), ("bn1.running_mean", [64]), ("layer1.0.conv1.weight", [64, 64, 3, 3]),
      ("layer2.0.downsample.0.weight", [128, 64, 1, 1]), ("layer2.0.downsample.1.running_var", [128]),
      ("layer4.1.bn2.weight", [512]), ("fc.weight", [1000, 512]),
    ],
    batch: [2, 3, 32, 32]),
  ZooCase(
    model: .resNet34, parameterCount: 21_797_672, stateEntries: 218,
    keys: [
      ("layer3.5.conv2.weight", [256, 256, 3, 3]), ("layer4.0.downsample.0.weight", [512, 256, 1, 1]),
      ("fc.weight", [1000, 512]),
    ],
    batch: [2, 3, 32, 32]),
  ZooCase(
    model: .resNet50, parameterCount: 25_557_032, stateEntries: 320,
    keys: [
      ("layer1.0.conv1.weight", [64, 64, 1, 1]), ("layer1.0.bn1.running_mean", [64]),
      ("layer1.0.downsample.0.weight", [256, 64, 1, 1]), ("layer1.0.downsample.1.weight", [256]),
      ("layer4.2.conv3.weight", [2048, 512, 1, 1]), ("fc.weight", [1000, 2048]),
    ],
    batch: [2, 3, 32, 32]),
  ZooCase(
    model: .resNet101, parameterCount: 44_549_160, stateEntries: 626,
    keys: [
      ("layer3.22.conv2.weight", [256, 256, 3, 3]), ("layer3.22.bn3.running_var", [1024]), ("fc.weight", [1000, 2048]),
    ],
    batch: [2, 3, 32, 32], debugCoverage: .countsAndNames),
  ZooCase(
    model: .resNet152, parameterCount: 60_192_808, stateEntries: 932,
    keys: [
      ("layer2.7.conv1.weight", [128, 512, 1, 1]), ("layer3.35.bn3.num_batches_tracked", []),
      ("fc.weight", [1000, 2048]),
    ],
    batch: [2, 3, 32, 32], debugCoverage: .countsAndNames),
]

/// Every network: parameter count, names, shape inference and a training step.
@Suite struct ModelZooTests {
  /// Builds `model` for images of `imageShape`. Weights are drawn uniformly, the cheapest
  /// way, since only shapes and counts are checked.
  func build(_ model: ModelName, imageShape: Shape, seed: UInt64 = 1) -> any Layer {
    var generator = SeededGenerator(seed: seed)
    return model.make(
      inputShape: imageShape, classCount: model.defaultClassCount, initialization: .pytorchDefault, using: &generator)
  }

  @Test func everyModelIsCovered() {
    #expect(Set(zoo.map(\.model)) == Set(ModelName.allCases))
  }

  @Test(arguments: zoo.filter { $0.debugCoverage != .fullRunOnly })
  func countsNamesAndATrainingStep(_ entry: ZooCase) throws {
    try check(entry, trainingStep: entry.debugCoverage == .everything || buildsHeavyModels)
  }

  /// Most VGGs: 130M+ parameters each, so in a debug build only with `CNNKIT_FULL_ZOO=1`.
  @Test(
    .enabled(if: buildsHeavyModels, "set CNNKIT_FULL_ZOO=1 or build optimized"),
    arguments: zoo.filter { $0.debugCoverage == .fullRunOnly })
  func countsNamesAndATrainingStepOfHeavyModels(_ entry: ZooCase) throws {
    try check(entry, trainingStep: true)
  }

  func check(_ entry: ZooCase, trainingStep: Bool) throws {
    let model = entry.model
    let network = build(model, imageShape: model.defaultInputShape)

    // Counts and names.
    #expect(network.parameterCount == entry.parameterCount)
    if let stateEntries = entry.stateEntries {
      #expect(network.namedParameters.count + network.namedBuffers.count == stateEntries)
    }
    let shapes = Dictionary(
      network.namedParameters.map { ($0.name, $0.parameter.shape) }
        + network.namedBuffers.map { ($0.name, $0.buffer.shape) },
      uniquingKeysWith: { first, _ in first })
    #expect(
      shapes.count == network.namedParameters.count + network.namedBuffers.count, "structural names must be unique")
    for (name, shape) in entry.keys {
      #expect(shapes[name] == shape, "\(name)")
    }

    // The parameters that depend on neither the image nor the classes: all but the first
    // convolution's weights, the classifier and (sized by the input) the first dense layer.
    let named = network.namedParameters
    let firstConvolution = try #require(named.first { $0.parameter.shape.rank == 4 }).parameter.shape.scalarCount
    let dense = named.filter { $0.parameter.shape.rank == 2 }.map { weight in
      let prefix = weight.name.dropLast("weight".count)
      return weight.parameter.shape.scalarCount
        + (named.first { $0.name == prefix + "bias" }?.parameter.shape.scalarCount ?? 0)
    }
    let varying = firstConvolution + (dense.last ?? 0) + (model.isSizedByInput && dense.count > 1 ? dense[0] : 0)
    #expect(model.shapeIndependentParameterCount == network.parameterCount - varying)

    // The summary at the paper's input agrees with the layers and with shape inference.
    let summary = try ModelSummary(of: network, inputShape: model.defaultInputShape, modelName: model.rawValue)
    #expect(summary.totalParameters == entry.parameterCount)
    #expect(summary.outputShape == [model.defaultClassCount])
    #expect(try network.outputShape(for: [1] + model.defaultInputShape) == [1, model.defaultClassCount])

    // One training step on a small batch (the smallest image some networks accept).
    guard trainingStep else { return }
    let imageShape = Shape(Array(entry.batch.dimensions.dropFirst()))
    let small =
      model.isSizedByInput && imageShape != model.defaultInputShape ? build(model, imageShape: imageShape) : network
    var generator = SeededGenerator(seed: 2)
    let images = Tensor.randomNormal(entry.batch, using: &generator)
    let (logits, pullback) = small.forward(images)
    #expect(logits.shape == [entry.batch[0], model.defaultClassCount])
    #expect(logits.scalars.allSatisfy { $0.isFinite })
    let dImages = pullback(.randomNormal(logits.shape, using: &generator))
    #expect(dImages.shape == entry.batch)
    let first = try #require(small.parameters.first)
    #expect(first.gradient.scalars.contains { $0 != 0 }, "the first layer's weights receive a gradient")
    #expect(small(images).shape == logits.shape)
    #expect(try ModelSummary(of: small, inputShape: imageShape).outputShape == [model.defaultClassCount])
  }

  /// The networks ending in adaptive or global pooling take CIFAR-size and ImageNet-size images.
  @Test func adaptiveModelsTakeAnyLargeEnoughImage() throws {
    var generator = SeededGenerator(seed: 3)
    let resnet = ResNet(depth: .resNet18, classCount: 10, initialization: .pytorchDefault, using: &generator)
    #expect(try ModelSummary(of: resnet, inputShape: [3, 32, 32]).outputShape == [10])
    #expect(try ModelSummary(of: resnet, inputShape: [3, 224, 224]).outputShape == [10])
    #expect(try ModelSummary(of: resnet, inputShape: [3, 97, 130]).outputShape == [10])
    let googLeNet = GoogLeNet(classCount: 10, initialization: .pytorchDefault, using: &generator)
    #expect(try ModelSummary(of: googLeNet, inputShape: [3, 224, 224]).outputShape == [10])
    #expect(try ModelSummary(of: googLeNet, inputShape: [3, 32, 32]).outputShape == [10])
    // One channel (MNIST) works too: only conv1's weight changes shape.
    let gray = ResNet(
      depth: .resNet18, classCount: 10, inputChannels: 1, initialization: .pytorchDefault, using: &generator)
    #expect(gray.parameter(named: "conv1.weight")?.shape == [64, 1, 7, 7])
    #expect(try ModelSummary(of: gray, inputShape: [1, 28, 28]).outputShape == [10])
  }

  /// torchvision's GoogLeNet at 224×224: the stage sizes 112, 56, 28, 14, 7 with ceil-mode pooling.
  @Test func googLeNetStages() throws {
    var generator = SeededGenerator(seed: 4)
    let network = GoogLeNet(initialization: .pytorchDefault, using: &generator)
    let summary = try ModelSummary(of: network, inputShape: [3, 224, 224])
    func output(_ name: String) -> Shape? { summary.rows.first { $0.name == name }?.outputShape }
    #expect(output("conv1.conv") == [64, 112, 112])
    #expect(output("maxpool1") == [64, 56, 56])
    #expect(output("inception3b") == [480, 28, 28])
    #expect(output("inception4e") == [832, 14, 14])
    #expect(output("inception5b") == [1024, 7, 7])
    #expect(output("avgpool") == [1024])
    #expect(output("inception3a")?.dimensions == [256, 28, 28])
    #expect(summary.rows.first { $0.name == "inception3a" }?.shapeFormula == "64 + 128 + 32 + 32 = 256 channels")
  }

  /// ResNet-50's first block: the bottleneck and its projection, named as torchvision names them.
  @Test func resNetBlockStructure() throws {
    var generator = SeededGenerator(seed: 5)
    let network = ResNet(depth: .resNet50, initialization: .pytorchDefault, using: &generator)
    let summary = try ModelSummary(of: network, inputShape: [3, 224, 224])
    let names = summary.rows.map(\.name)
    let block = Array(names.drop { $0 != "layer1.0.conv1" }.prefix(12))
    #expect(
      block == [
        "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.bn2", "layer1.0.relu",
        "layer1.0.conv3", "layer1.0.bn3", "layer1.0.downsample.0", "layer1.0.downsample.1", "layer1.0",
        "layer1.1.conv1",
      ])
    let merge = try #require(summary.rows.first { $0.name == "layer1.0" })
    #expect(merge.kind == "Residual add + ReLU")
    #expect(merge.outputShape == [256, 56, 56])
    #expect(summary.rows.first { $0.name == "layer4.2" }?.outputShape == [2048, 7, 7])
    #expect(summary.rows.first { $0.name == "conv1" }?.shapeFormula == "⌊(224 + 2·3 − 7)/2⌋ + 1 = 112")
  }
}

/// The value of an environment variable, or `nil`.
func environmentVariable(_ name: String) -> String? {
  getenv(name).map { String(cString: $0) }
}
