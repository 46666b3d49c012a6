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
/// | `run` | optional: the ``RunConfiguration`` as JSON (data, normalization, optimizer, …) |
/// | `state` | optional: the ``TrainingState`` as JSON (epochs done, generators, …) |
///
/// The optimizer's tensors of a training state are stored under `optimizer.`
/// (`optimizer.3.exp_avg`, `optimizer.3.step`). Files of format version 1, which kept the run's
/// settings as separate `training.*` strings, are read too (`Checkpoint+Legacy.swift`).
///
///     try Checkpoint.save(model: model, modelName: .lenet5, inputShape: [1, 28, 28], classCount: 10,
///                         to: URL(fileURLWithPath: "lenet5.safetensors"))
///     let restored = try Checkpoint.load(from: url).makeModel()
public struct Checkpoint: Sendable {
  /// The value of `format` in CNNKit's metadata.
  public static let formatName = "cnnkit"
  /// The version of the metadata layout written.
  public static let formatVersion = 2
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
  /// The run that trained the model, or `nil` for a file that does not record it.
  public var run: RunConfiguration?
  /// What resuming the training needs, or `nil` for weights alone.
  public var training: TrainingState?
  /// Metadata entries that are not CNNKit's own; kept and written back.
  public var otherMetadata: [String: String]

  /// Creates a checkpoint from tensors and configuration.
  public init(
    tensors: [(name: String, tensor: Tensor)], modelName: ModelName? = nil, inputShape: Shape? = nil,
    classCount: Int? = nil, classNames: [String]? = nil, run: RunConfiguration? = nil,
    training: TrainingState? = nil, otherMetadata: [String: String] = [:]
  ) {
    self.tensors = tensors
    self.run = run
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
    run: RunConfiguration? = nil, training: TrainingState? = nil
  ) {
    let parameters = model.namedParameters.map { (name: $0.name, tensor: $0.parameter.value) }
    let buffers = model.namedBuffers.map { (name: $0.name, tensor: $0.buffer.value) }
    self.init(
      tensors: parameters + buffers, modelName: modelName, inputShape: inputShape, classCount: classCount,
      classNames: classNames, run: run, training: training)
  }

  /// Captures the current parameters and buffers of `model`, trained by `run`.
  public init(model: any Layer, run: RunConfiguration, training: TrainingState? = nil) {
    self.init(
      model: model, modelName: run.model, inputShape: run.imageShape, classCount: run.classNames.count,
      classNames: run.classNames, run: run, training: training)
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
      if let classNames { metadata[MetadataKey.classNames] = MetadataJSON.encode(classNames) }
      if let run { metadata[MetadataKey.run] = MetadataJSON.encode(run) }
      if let training { metadata[MetadataKey.state] = MetadataJSON.encode(training.record) }
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
      training == nil || run != nil, "Checkpoint: a training state needs its run configuration to be written")
    try SafeTensors.write(allTensors, metadata: metadata, to: url)
  }

  /// Captures `model` and writes it to `url` atomically (see `write(to:)`).
  public static func save(
    model: any Layer, modelName: ModelName, inputShape: Shape, classCount: Int, classNames: [String]? = nil,
    to url: URL
  ) throws(CheckpointError) {
    try Checkpoint(
      model: model, modelName: modelName, inputShape: inputShape, classCount: classCount, classNames: classNames
    ).write(to: url)
  }

  /// Reads and validates the checkpoint at `url` (see `SafeTensorsFile` for the checks).
  public static func load(from url: URL) throws(CheckpointError) -> Checkpoint {
    let file = try SafeTensorsFile(contentsOf: url)
    do {
      return try Checkpoint(file: file)
    } catch {
      throw .inFile(path: url.path, error)
    }
  }

  /// Reads a checkpoint from a validated file: F16, BF16 and F64 become `Float`, integer
  /// counters (`num_batches_tracked`, optimizer steps) too; other integer tensors are refused.
  public init(file: SafeTensorsFile) throws(CheckpointError) {
    var metadata = file.metadata
    guard metadata[MetadataKey.format] == Self.formatName else {
      // A plain state_dict: tensors only, counters allowed as integers.
      let tensors = try Self.readTensors(of: file, optimizerPrefix: nil).model
      self.init(tensors: tensors, otherMetadata: metadata)
      return
    }
    let version = metadata[MetadataKey.formatVersion].flatMap(Int.init) ?? 1
    guard (1...Self.formatVersion).contains(version) else {
      throw .invalidMetadata(
        key: MetadataKey.formatVersion, value: metadata[MetadataKey.formatVersion],
        expected: "1…\(Self.formatVersion) (a newer CNNKit wrote this file; update CNNKit to read it)")
    }
    let modelName = try Self.parseModelName(metadata[MetadataKey.model])
    let inputShape = try metadata[MetadataKey.inputShape].map(Self.parseInputShape)
    let classCount = try metadata[MetadataKey.classCount].map(Self.parseClassCount)
    let classNames = try metadata[MetadataKey.classNames].map(Self.parseClassNames)
    if let names = classNames, let count = classCount, names.count != count {
      throw .invalidMetadata(
        key: MetadataKey.classNames, value: "\(names.count) names", expected: "\(count), one per class")
    }
    let hasTraining = version == 1 ? Self.legacyHasTraining(metadata) : metadata[MetadataKey.state] != nil
    let (tensors, optimizerState) = try Self.readTensors(of: file, optimizerPrefix: hasTraining ? Self.optimizerPrefix : nil)
    var run: RunConfiguration?
    var training: TrainingState?
    if version == 1 {
      (run, training) = try Self.legacyRun(
        metadata: metadata, modelName: modelName, inputShape: inputShape, classNames: classNames,
        classCount: classCount, optimizerState: optimizerState)
      metadata = Self.withoutLegacyKeys(metadata)
    } else {
      run = try metadata[MetadataKey.run].map { (text) throws(CheckpointError) in
        try MetadataJSON.decode(RunConfiguration.self, from: text, key: MetadataKey.run)
      }
      training = try metadata[MetadataKey.state].map { (text) throws(CheckpointError) in
        let record = try MetadataJSON.decode(TrainingState.Record.self, from: text, key: MetadataKey.state)
        return try TrainingState(record: record, optimizerState: optimizerState)
      }
    }
    if let run { try Self.check(run, modelName: modelName, inputShape: inputShape, classNames: classNames, classCount: classCount) }
    if training != nil && run == nil {
      throw .invalidMetadata(key: MetadataKey.run, value: nil, expected: "the run configuration beside a training state")
    }
    for key in MetadataKey.all { metadata[key] = nil }
    self.init(
      tensors: tensors, modelName: modelName, inputShape: inputShape ?? run?.imageShape,
      classCount: classCount ?? run?.classNames.count, classNames: classNames ?? run?.classNames, run: run,
      training: training, otherMetadata: metadata)
  }

  /// The model's tensors and, under `optimizerPrefix`, the optimizer's: F16, BF16 and F64
  /// become `Float`, integer counters (`num_batches_tracked`, optimizer steps) too; other
  /// integer tensors are refused.
  private static func readTensors(of file: SafeTensorsFile, optimizerPrefix: String?) throws(CheckpointError)
    -> (model: [(name: String, tensor: Tensor)], optimizer: [String: Tensor])
  {
    var tensors: [(name: String, tensor: Tensor)] = []
    var optimizerState: [String: Tensor] = [:]
    for name in file.names {
      let isOptimizer = optimizerPrefix.map { name.hasPrefix($0) } ?? false
      let isCounter = name == "num_batches_tracked" || name.hasSuffix(".num_batches_tracked")
        || (isOptimizer && name.hasSuffix(".step"))
      let tensor = try file.tensor(named: name, allowingIntegers: isCounter)
      if isOptimizer {
        optimizerState[String(name.dropFirst(Self.optimizerPrefix.count))] = tensor
      } else {
        tensors.append((name, tensor))
      }
    }
    return (tensors, optimizerState)
  }

  /// Checks that the run agrees with the file's own description of the model.
  private static func check(
    _ run: RunConfiguration, modelName: ModelName, inputShape: Shape?, classNames: [String]?, classCount: Int?
  ) throws(CheckpointError) {
    if let problem = run.problems.first {
      throw .invalidMetadata(key: MetadataKey.run, value: "unusable: \(problem)", expected: "a usable run configuration")
    }
    if run.model != modelName {
      throw .invalidMetadata(key: MetadataKey.run, value: "model \(run.model.rawValue)", expected: "model \(modelName.rawValue), as `model` says")
    }
    if let inputShape, inputShape != run.imageShape {
      throw .invalidMetadata(key: MetadataKey.run, value: "input shape \(run.imageShape)", expected: "\(inputShape), as `input_shape` says")
    }
    if let classCount, classCount != run.classNames.count {
      throw .invalidMetadata(key: MetadataKey.run, value: "\(run.classNames.count) classes", expected: "\(classCount), as `class_count` says")
    }
    if let classNames, classNames != run.classNames {
      throw .invalidMetadata(key: MetadataKey.run, value: "other class names", expected: "the names `class_names` lists")
    }
  }

  private static func parseInputShape(_ text: String) throws(CheckpointError) -> Shape {
    guard let shape = Shape(parsing: text), shape.rank == 3, RunLimits.channels.contains(shape[0]),
      RunLimits.imageSide.contains(shape[1]), RunLimits.imageSide.contains(shape[2])
    else {
      throw .invalidMetadata(
        key: MetadataKey.inputShape, value: text,
        expected: "an image shape [C, H, W] with C in 1…4 and H, W in 1…\(RunLimits.imageSide.upperBound), such as [1, 28, 28]")
    }
    return shape
  }

  private static func parseClassCount(_ text: String) throws(CheckpointError) -> Int {
    guard let count = Int(text), RunLimits.classes.contains(count) else {
      throw .invalidMetadata(
        key: MetadataKey.classCount, value: text, expected: "a whole number in 1…\(RunLimits.classes.upperBound)")
    }
    return count
  }

  private static func parseClassNames(_ text: String) throws(CheckpointError) -> [String] {
    let names = try MetadataJSON.decode([String].self, from: text, key: MetadataKey.classNames)
    guard RunLimits.classes.contains(names.count) else {
      throw .invalidMetadata(
        key: MetadataKey.classNames, value: "\(names.count) names", expected: "1…\(RunLimits.classes.upperBound) names")
    }
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
    static let run = "run"
    static let state = "state"
    static let all = [format, formatVersion, model, inputShape, classCount, classNames, run, state]
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
