import CNNLayers
import CNNModels
import CNNTensor
import Foundation
import Testing

@testable import CNNTraining

/// Checkpoints written by PyTorch (`Scripts/reference-fixtures.py`, run once by hand) load into
/// CNNKit's models and give PyTorch's logits, without PyTorch.
@Suite struct CheckpointInteropTests {
  static func fixture(_ name: String) throws -> URL {
    let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return directory.appendingPathComponent(name)
  }

  /// `input` and PyTorch's `output` from an `-io.safetensors` fixture.
  static func reference(_ name: String) throws -> (input: Tensor, output: Tensor) {
    let file = try SafeTensorsFile(contentsOf: fixture(name))
    return (try file.tensor(named: "input"), try file.tensor(named: "output"))
  }

  /// `max |a − b| / max |b|`.
  static func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    let difference = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    return difference / max(b.scalars.map(abs).max() ?? 0, .leastNormalMagnitude)
  }

  /// The seeds' SimpleConvNet, saved by `safetensors.torch.save_file` as a plain state_dict:
  /// loaded by naming the model, class count read from `6.weight`.
  @Test func pytorchSimpleConvNet() throws {
    let checkpoint = try Checkpoint.load(from: Self.fixture("simple-convnet.safetensors"))
    #expect(checkpoint.modelName == nil)
    #expect(checkpoint.tensors.map(\.name).sorted() == ["0.bias", "0.weight", "4.bias", "4.weight", "6.bias", "6.weight"])
    let model = try checkpoint.makeModel(.simpleConvNet, inputShape: [1, 12, 12])
    #expect(model is SimpleConvNet)
    let (input, expected) = try Self.reference("simple-convnet-io.safetensors")
    let logits = model(input)
    #expect(Self.relativeDifference(logits, expected) <= 1e-4, "\(logits) vs \(expected)")
  }

  /// A network of torchvision's `BasicBlock`s saved in F16 with I64 `num_batches_tracked`:
  /// the zoo's `Residual` + `ResNet.BasicBranch` take the same keys and give the same logits.
  @Test func pytorchTinyResNetInHalfPrecision() throws {
    let file = try SafeTensorsFile(contentsOf: Self.fixture("tiny-resnet.safetensors"))
    #expect(file.info(named: "conv1.weight")?.dtype == .float16)
    #expect(file.info(named: "bn1.num_batches_tracked")?.dtype == .int64)
    let checkpoint = try Checkpoint(file: file)
    var g = SeededGenerator(seed: 0)
    let model = TinyResNet(using: &g)
    try checkpoint.apply(to: model)
    #expect(model.buffer(named: "layer1.1.downsample.1.num_batches_tracked")?.value.scalars == [3])
    let (input, expected) = try Self.reference("tiny-resnet-io.safetensors")
    let logits = model(input)
    #expect(Self.relativeDifference(logits, expected) <= 1e-4, "\(logits) vs \(expected)")
  }

  /// torchvision's resnet18 (10 classes): the same keys and shapes as CNNKit's `ResNet`, and,
  /// with every tensor filled by the script's formula, the same logits on 2×3×32×32.
  @Test func torchvisionResNet18() throws {
    var g = SeededGenerator(seed: 0)
    let model = ResNet(depth: .resNet18, classCount: 10, using: &g)
    let manifest = try String(contentsOf: Self.fixture("resnet18-keys.txt"), encoding: .utf8)
    var torchvision: [String: Shape] = [:]
    for line in manifest.split(separator: "\n") where !line.hasPrefix("#") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, let shape = Shape(parsing: String(parts[1])) else {
        Issue.record("unreadable manifest line: \(line)")
        continue
      }
      torchvision[String(parts[0])] = shape
    }
    var cnnkit: [String: Shape] = [:]
    for (name, parameter) in model.namedParameters { cnnkit[name] = parameter.shape }
    for (name, buffer) in model.namedBuffers { cnnkit[name] = buffer.shape }
    #expect(torchvision.count == 122)
    #expect(Set(cnnkit.keys).symmetricDifference(torchvision.keys).isEmpty)
    #expect(cnnkit == torchvision)

    let tensors = cnnkit.map { (name: $0.key, tensor: formulaTensor(name: $0.key, shape: $0.value)) }
    try Checkpoint(tensors: tensors).apply(to: model)
    let (input, expected) = try Self.reference("resnet18-io.safetensors")
    let logits = model(input)
    #expect(Self.relativeDifference(logits, expected) <= 1e-4, "\(logits) vs \(expected)")
  }
}

/// The script's `TinyResNet`: conv1 → bn1 → relu → maxpool → layer1 (an identity block and a
/// strided block with a projection) → global average pooling → fc.
final class TinyResNet: LayerChain {
  let conv1: Conv2D
  let bn1 = BatchNorm2D(featureCount: 8)
  let relu = ReLU()
  let maxpool = MaxPool2D(kernelSize: 3, stride: 2, padding: 1)
  let layer1: Sequential
  let avgpool = GlobalAvgPool2D()
  let fc: Linear

  init(using g: inout SeededGenerator) {
    conv1 = Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1, bias: false, using: &g)
    let projection = Sequential {
      Conv2D(inputChannels: 8, outputChannels: 16, kernelSize: 1, stride: 2, bias: false, using: &g)
      BatchNorm2D(featureCount: 16)
    }
    layer1 = Sequential {
      Residual(body: ResNet.BasicBranch(inputChannels: 8, channels: 8, stride: 1, using: &g), activation: ReLU())
      Residual(
        body: ResNet.BasicBranch(inputChannels: 8, channels: 16, stride: 2, using: &g), downsample: projection,
        activation: ReLU())
    }
    fc = Linear(inputFeatures: 16, outputFeatures: 10, using: &g)
  }

  var children: [(name: String, layer: any Layer)] {
    [
      ("conv1", conv1), ("bn1", bn1), ("relu", relu), ("maxpool", maxpool), ("layer1", layer1), ("avgpool", avgpool),
      ("fc", fc),
    ]
  }
}

/// `formula_tensor` of `Scripts/reference-fixtures.py`: element `i` of tensor `name` is
/// `u = splitmix64(fnv1a64(name) + i·φ) >> 40 / 2²⁴`, mapped by the tensor's kind, computed in
/// `Double` and rounded to `Float`, so both sides hold the same bits.
func formulaTensor(name: String, shape: Shape) -> Tensor {
  if name.hasSuffix("num_batches_tracked") { return .zeros(shape) }
  var hash: UInt64 = 0xCBF2_9CE4_8422_2325
  for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
  let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
  let fanIn = shape.dimensions.dropFirst().reduce(1, *)
  let scale = (3.0 / Double(fanIn)).squareRoot()
  return Tensor(shape: shape, unsafeUninitialized: { out in
    for i in out.indices {
      var z = hash &+ UInt64(i) &* golden &+ golden
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      z ^= z >> 31
      let u = Double(z >> 40) / 16_777_216
      let value: Double
      if name.hasSuffix("running_var") {
        value = 0.5 + u
      } else if name.hasSuffix("running_mean") || name.hasSuffix("bias") {
        value = 0.2 * u - 0.1
      } else if shape.rank == 1 {
        value = 0.5 + u
      } else {
        value = (2 * u - 1) * scale
      }
      out[i] = Float(value)
    }
  })
}
