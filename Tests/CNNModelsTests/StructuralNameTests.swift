import CNNLayers
import CNNTensor
import Testing

@testable import CNNModels

/// Checkpoints find tensors by structural name, so the names every zoo model gives its
/// parameters and buffers are pinned here: a count and an FNV-1a digest of the full list,
/// taken from the reflection-based naming the layer tree replaced (commit 799dbe2).
@Suite struct StructuralNameTests {
  /// `model: (entries, digest)`, for `names(of:)` joined by newlines.
  static let pinned: [ModelName: (entries: Int, digest: String)] = [
    .simpleConvNet: (6, "8e9a8edf2d33f154"),
    .deepConvNet: (16, "5e74a09af23338d5"),
    .mnistCNN: (8, "bc37764801233b1f"),
    .cifarCNN: (14, "2ac22f7071276dce"),
    .lenet5: (10, "8c6ec433a3531dc4"),
    .lenet5RBF: (9, "7abfe71d8809a9df"),
    .alexNetOriginal: (16, "7acb6a5bd8827f21"),
    .alexNet: (16, "ba07a294bb9331f5"),
    .vgg11: (22, "410af32ea418fcdc"),
    .vgg13: (26, "e8510a90c980b064"),
    .vgg16: (32, "94693420d594ed2f"),
    .vgg19: (38, "d95df4d9128b9c50"),
    .vgg11BN: (62, "8c70d8e98c432764"),
    .vgg13BN: (76, "4a287f90b0111b17"),
    .vgg16BN: (97, "5572774b78b6e627"),
    .vgg19BN: (118, "33b6dae93c40261f"),
    .googLeNet: (344, "8ed335619447eb89"),
    .resNet18: (122, "7f785355e7c97a49"),
    .resNet34: (218, "559ed8ffb8ee683d"),
    .resNet50: (320, "560f187982e52575"),
    .resNet101: (626, "d3d4f9a4ee021d7c"),
    .resNet152: (932, "34c395a0c27c873b"),
  ]

  /// `p:<parameter name>` lines, then `b:<buffer name>` lines, in the model's order.
  static func names(of network: any Layer) -> [String] {
    network.namedParameters.map { "p:\($0.name)" } + network.namedBuffers.map { "b:\($0.name)" }
  }

  /// FNV-1a, 64 bits, as 16 hex digits.
  static func digest(_ lines: [String]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in lines.joined(separator: "\n").utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  static func build(_ model: ModelName) -> any Layer {
    var generator = SeededGenerator(seed: 1)
    return model.make(
      inputShape: model.defaultInputShape, classCount: model.defaultClassCount, initialization: .pytorchDefault,
      using: &generator)
  }

  @Test(arguments: ModelName.allCases)
  func namesAreUnchanged(_ model: ModelName) {
    let lines = Self.names(of: Self.build(model))
    let pinned = Self.pinned[model]
    #expect(pinned?.entries == lines.count)
    #expect(pinned?.digest == Self.digest(lines), "\(lines.prefix(8))…")
  }

  /// Two lists written out, so a change reads in the failure message.
  @Test func smallModelsNameEveryTensor() {
    #expect(
      Self.names(of: Self.build(.simpleConvNet)) == [
        "p:0.weight", "p:0.bias", "p:4.weight", "p:4.bias", "p:6.weight", "p:6.bias"
      ])
    #expect(
      Self.names(of: Self.build(.lenet5)) == [
        "p:0.weight", "p:0.bias", "p:3.weight", "p:3.bias", "p:6.weight", "p:6.bias", "p:9.weight", "p:9.bias",
        "p:11.weight", "p:11.bias"
      ])
    #expect(Array(Self.names(of: Self.build(.resNet18)).prefix(12)) == [
      "p:conv1.weight", "p:bn1.weight", "p:bn1.bias", "p:layer1.0.conv1.weight", "p:layer1.0.bn1.weight",
      "p:layer1.0.bn1.bias", "p:layer1.0.conv2.weight", "p:layer1.0.bn2.weight", "p:layer1.0.bn2.bias",
      "p:layer1.1.conv1.weight", "p:layer1.1.bn1.weight", "p:layer1.1.bn1.bias"
    ])
  }

  /// The digest sees a one-character change.
  @Test func digestSeesRenames() {
    #expect(Self.digest(["p:0.weight"]) != Self.digest(["p:1.weight"]))
    #expect(Self.digest(["p:0.weight", "p:0.bias"]) != Self.digest(["p:0.bias", "p:0.weight"]))
  }

  /// Checkpoints save the dropout layers' generators in `layers(ofType: Dropout.self)` order;
  /// it must be the order of the stored-property walk that wrote checkpoints before the layer
  /// tree (kept here, with `Mirror`, as the reference), or old checkpoints would resume with
  /// their masks swapped.
  @Test(arguments: [ModelName.lenet5, .alexNetOriginal, .alexNet, .vgg11, .vgg11BN, .googLeNet, .cifarCNN, .deepConvNet, .mnistCNN])
  func dropoutOrderMatchesTheStoredPropertyWalk(_ model: ModelName) {
    let network = Self.build(model)
    let walked = network.layers(ofType: Dropout.self)
    let reference = mirrorDropouts(in: network)
    #expect(walked.count == reference.count)
    #expect(zip(walked, reference).allSatisfy { $0 === $1 })
  }
}

/// The dropout walk of `TrainingState` at 799dbe2: depth first over stored properties
/// (superclasses first), arrays in order, optionals looked through, each layer once.
private func mirrorDropouts(in model: any Layer) -> [Dropout] {
  var result: [Dropout] = []
  var seen: Set<ObjectIdentifier> = []
  func collect(_ value: Any) {
    switch value {
    case let dropout as Dropout:
      if seen.insert(ObjectIdentifier(dropout)).inserted { result.append(dropout) }
    case let layer as any Layer:
      guard seen.insert(ObjectIdentifier(layer)).inserted else { return }
      var levels: [Mirror] = []
      var mirror: Mirror? = Mirror(reflecting: layer)
      while let current = mirror {
        levels.append(current)
        mirror = current.superclassMirror
      }
      for level in levels.reversed() {
        // `plan` is new: fused steps that share the declared layers.
        for child in level.children where child.label != "plan" { collect(child.value) }
      }
    case let array as [Any]:
      for element in array { collect(element) }
    default:
      let mirror = Mirror(reflecting: value)
      if mirror.displayStyle == .optional, let wrapped = mirror.children.first { collect(wrapped.value) }
    }
  }
  collect(model)
  return result
}
