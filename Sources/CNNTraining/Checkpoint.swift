import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import Foundation

/// A model's weights, the configuration that rebuilds it, and optionally the state that
/// resumes its training exactly, stored as a safetensors file.
///
/// Tensors are keyed by structural name (`0.weight`, `layer1.0.bn1.running_mean`: torchvision's
/// `state_dict` keys for torchvision models), so `safetensors.torch.load_file` gives a
/// `state_dict` PyTorch can load, and a PyTorch `state_dict` saved with
/// `safetensors.torch.save_file` loads here. `__metadata__` holds
///
/// | Key | Value |
/// |---|---|
/// | `format` | `cnnkit` |
/// | `format_version` | `1` |
/// | `model` | the `ModelName` raw value, `resnet18` |
/// | `input_shape` | `[3, 32, 32]` (one image, `[C, H, W]`) |
/// | `class_count` | `10` |
/// | `class_names` | optional: a JSON array of strings, `["0", "1", …]` |
///
/// plus the `TrainingState` keys when there is one; its optimizer tensors are stored under
/// `optimizer.` (`optimizer.3.exp_avg`, `optimizer.3.step`).
///
///     try Checkpoint.save(model: model, modelName: .lenet5, inputShape: [1, 28, 28], classCount: 10,
///                         to: URL(fileURLWithPath: "lenet5.safetensors"))
///     let restored = try Checkpoint.load(from: url).makeModel()
public struct Checkpoint: Sendable {
  /// The value of `format` in CNNKit's metadata.
  public static let formatName = "cnnkit"
  /// The version of the metadata layout written.
  public static let formatVersion = 1
  /// The prefix of the optimizer's state tensors.
  public static let optimizerPrefix = "optimizer."

  /// The model's parameters and buffers by structural name, in the order they are written.
  public var tensors: [(name: String, tensor: Tensor)]
  /// The architecture, or `nil` for a file without CNNKit metadata (a plain `state_dict`).
  public var modelName: ModelName?
  /// The image shape `[C, H, W]` the model was built for, or `nil` when unknown.
  public var inputShape: Shape?
  /// The number of classes, or `nil` when unknown.
  public var classCount: Int?
  /// A name for each class, by label (`["0", "1", …]`, `["airplane", …]`), or `nil`.
  public var classNames: [String]?
  /// What resuming the training needs, or `nil` for weights alone.
  public var training: TrainingState?
  /// Metadata entries that are not CNNKit's own; kept and written back.
  public var otherMetadata: [String: String]

  /// Creates a checkpoint from tensors and configuration.
  public init(
    tensors: [(name: String, tensor: Tensor)], modelName: ModelName? = nil, inputShape: Shape? = nil,
    classCount: Int? = nil, classNames: [String]? = nil, training: TrainingState? = nil,
    otherMetadata: [String: String] = [:]
  ) {
    self.tensors = tensors
    self.modelName = modelName
    self.inputShape = inputShape
    self.classCount = classCount
    self.classNames = classNames
    self.training = training
    self.otherMetadata = otherMetadata
  }

  /// Captures the current parameters and buffers of `model` (a copy: later training does not
  /// change the checkpoint).
  public init(
    model: any Layer, modelName: ModelName, inputShape: Shape, classCount: Int, classNames: [String]? = nil,
    training: TrainingState? = nil
  ) {
    let parameters = model.namedParameters.map { (name: $0.name, tensor: $0.parameter.value) }
    let buffers = model.namedBuffers.map { (name: $0.name, tensor: $0.buffer.value) }
    self.init(
      tensors: parameters + buffers, modelName: modelName, inputShape: inputShape, classCount: classCount,
      classNames: classNames, training: training)
  }

  /// The tensor `name`, or `nil`.
  public func tensor(named name: String) -> Tensor? {
    tensors.first { $0.name == name }?.tensor
  }

  /// The same checkpoint without its training state: the model's parameters, buffers and
  /// configuration alone, which PyTorch's `load_state_dict(strict=True)` accepts as they are
  /// (`cnn export`).
  public var weightsOnly: Checkpoint {
    var copy = self
    copy.training = nil
    return copy
  }

  /// All of `__metadata__` as written: CNNKit's keys, the training state's and the others.
  public var metadata: [String: String] {
    var metadata = otherMetadata
    if let modelName {
      metadata[MetadataKey.format] = Self.formatName
      metadata[MetadataKey.formatVersion] = String(Self.formatVersion)
      metadata[MetadataKey.model] = modelName.rawValue
      if let inputShape { metadata[MetadataKey.inputShape] = inputShape.description }
      if let classCount { metadata[MetadataKey.classCount] = String(classCount) }
      if let classNames {
        metadata[MetadataKey.classNames] = "[" + classNames.map(JSONText.quoted).joined(separator: ", ") + "]"
      }
      if let training { metadata.merge(training.metadata) { _, new in new } }
    }
    return metadata
  }

  /// The tensors as written: the model's, then the optimizer's under `optimizer.`, by key.
  public var allTensors: [(name: String, tensor: Tensor)] {
    let optimizer = (training?.optimizerState ?? [:]).sorted { $0.key.compareNumerically(to: $1.key) }
    return tensors + optimizer.map { (Self.optimizerPrefix + $0.key, $0.value) }
  }

  /// Writes the checkpoint to `url` atomically: a temporary file in the same directory,
  /// flushed, then renamed over `url`, so an interrupted save leaves the previous file whole.
  public func write(to url: URL) throws(CheckpointError) {
    precondition(
      training == nil || modelName != nil, "Checkpoint: a training state needs a model name to be written")
    try SafeTensors.write(allTensors, metadata: metadata, to: url)
  }

  /// Captures `model` and writes it to `url` atomically (see `write(to:)`).
  public static func save(
    model: any Layer, modelName: ModelName, inputShape: Shape, classCount: Int, classNames: [String]? = nil,
    training: TrainingState? = nil, to url: URL
  ) throws(CheckpointError) {
    try Checkpoint(
      model: model, modelName: modelName, inputShape: inputShape, classCount: classCount, classNames: classNames,
      training: training
    ).write(to: url)
  }

  /// Reads and validates the checkpoint at `url` (see `SafeTensorsFile` for the checks).
  public static func load(from url: URL) throws(CheckpointError) -> Checkpoint {
    try Checkpoint(file: SafeTensorsFile(contentsOf: url))
  }

  /// Reads a checkpoint from a validated file: F16, BF16 and F64 become `Float`, integer
  /// counters (`num_batches_tracked`, optimizer steps) too; other integer tensors are refused.
  public init(file: SafeTensorsFile) throws(CheckpointError) {
    var metadata = file.metadata
    let isCNNKit = metadata[MetadataKey.format] == Self.formatName
    var modelName: ModelName?
    var inputShape: Shape?
    var classCount: Int?
    var classNames: [String]?
    var training: TrainingState?
    if isCNNKit {
      modelName = try Self.parseModelName(metadata[MetadataKey.model])
      inputShape = try metadata[MetadataKey.inputShape].map { (text) throws(CheckpointError) in
        guard let shape = Shape(parsing: text), shape.rank == 3 else {
          throw .invalidMetadata(key: MetadataKey.inputShape, value: text, expected: "an image shape such as [1, 28, 28]")
        }
        return shape
      }
      classCount = try metadata[MetadataKey.classCount].map { (text) throws(CheckpointError) in
        guard let count = Int(text), count > 0 else {
          throw .invalidMetadata(key: MetadataKey.classCount, value: text, expected: "a positive whole number")
        }
        return count
      }
      classNames = try metadata[MetadataKey.classNames].map(Self.parseClassNames)
      if let names = classNames, let count = classCount, names.count != count {
        throw .invalidMetadata(
          key: MetadataKey.classNames, value: "\(names.count) names", expected: "\(count), one per class")
      }
    }
    var tensors: [(name: String, tensor: Tensor)] = []
    var optimizerState: [String: Tensor] = [:]
    let hasTraining = isCNNKit && TrainingState.isPresent(in: metadata)
    for name in file.names {
      let isOptimizer = hasTraining && name.hasPrefix(Self.optimizerPrefix)
      let isCounter = name == "num_batches_tracked" || name.hasSuffix(".num_batches_tracked")
        || (isOptimizer && name.hasSuffix(".step"))
      let tensor = try file.tensor(named: name, allowingIntegers: isCounter)
      if isOptimizer {
        optimizerState[String(name.dropFirst(Self.optimizerPrefix.count))] = tensor
      } else {
        tensors.append((name, tensor))
      }
    }
    if hasTraining {
      training = try TrainingState(metadata: metadata, optimizerState: optimizerState)
    }
    if isCNNKit {
      for key in MetadataKey.all + TrainingState.metadataKeys { metadata[key] = nil }
      metadata = metadata.filter { !$0.key.hasPrefix(TrainingState.extraPrefix) }
    }
    self.init(
      tensors: tensors, modelName: modelName, inputShape: inputShape, classCount: classCount, classNames: classNames,
      training: training, otherMetadata: metadata)
  }

  private static func parseClassNames(_ text: String) throws(CheckpointError) -> [String] {
    let invalid = CheckpointError.invalidMetadata(
      key: MetadataKey.classNames, value: text, expected: "a JSON array of strings")
    guard let names = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { throw invalid }
    return names
  }

  private static func parseModelName(_ text: String?) throws(CheckpointError) -> ModelName {
    guard let text, let name = ModelName(rawValue: text) else {
      throw .invalidMetadata(
        key: MetadataKey.model, value: text,
        expected: "one of " + ModelName.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return name
  }

  /// CNNKit's own metadata keys.
  enum MetadataKey {
    static let format = "format"
    static let formatVersion = "format_version"
    static let model = "model"
    static let inputShape = "input_shape"
    static let classCount = "class_count"
    static let classNames = "class_names"
    static let all = [format, formatVersion, model, inputShape, classCount, classNames]
  }
}

extension Shape {
  /// Parses `"[1, 28, 28]"` (the `description` form); `nil` unless every dimension is a
  /// whole number ≥ 0.
  init?(parsing text: String) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else { return nil }
    let inner = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
    if inner.isEmpty {
      self.init([])
      return
    }
    var dimensions: [Int] = []
    for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
      guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value >= 0 else { return nil }
      dimensions.append(value)
    }
    self.init(dimensions)
  }
}

extension String {
  /// Orders `"2.step"` before `"10.step"`: runs of digits compare as numbers.
  func compareNumerically(to other: String) -> Bool {
    let a = split(separator: "."), b = other.split(separator: ".")
    for (x, y) in zip(a, b) where x != y {
      if let i = Int(x), let j = Int(y) { return i < j }
      return x < y
    }
    return a.count < b.count
  }
}
