import CNNData
import CNNLayers
import CNNModels
import CNNTensor
import Foundation

/// A trained model with everything needed to use it as it was trained: the network and its
/// weights, the image shape it takes, its class names, the normalization of its inputs, and
/// the run that made it (which names its data).
///
/// Every command that uses a checkpoint (`predict`, `evaluate`, `visualize`, `export`) goes
/// through this one type, so none of them can forget a step of the preprocessing.
///
///     let restored = try RestoredModel(contentsOf: URL(fileURLWithPath: "run.safetensors"))
///     let x = restored.input(from: try Image.read(from: "digit.png"))   // [1, C, H, W], normalized
///     let top = restored.probabilities(for: x)[0]
public struct RestoredModel {
  /// The network, with the checkpoint's weights.
  public let model: any Layer
  /// The architecture.
  public let modelName: ModelName
  /// One image's shape `[C, H, W]`.
  public let inputShape: Shape
  /// A name for each output, by label.
  public let classNames: [String]
  /// The normalization the model was trained with (applied by ``input(from:invert:)`` and
  /// ``prepared(_:)``), or `nil`.
  public let normalization: Normalization?
  /// The run that trained the model, if the file records it.
  public let run: RunConfiguration?
  /// The checkpoint it was restored from.
  public let checkpoint: Checkpoint
  /// How to name the checkpoint in messages (its path).
  public let source: String

  /// Reads a checkpoint and builds its model.
  ///
  /// - Parameters:
  ///   - requested: The architecture, for a plain PyTorch `state_dict` that does not name one
  ///     (it must agree with a CNNKit file's own).
  ///   - inputShape: `[C, H, W]`, for a file that does not record it.
  /// - Throws: `CheckpointError` naming the file and what is wrong.
  public init(contentsOf url: URL, model requested: ModelName? = nil, inputShape: Shape? = nil) throws(CheckpointError) {
    try self.init(
      checkpoint: Checkpoint.load(from: url), source: url.path, model: requested, inputShape: inputShape)
  }

  /// Builds the model a loaded checkpoint describes (see ``init(contentsOf:model:inputShape:)``).
  public init(checkpoint: Checkpoint, source: String, model requested: ModelName? = nil, inputShape: Shape? = nil)
    throws(CheckpointError)
  {
    let (model, configuration) = try checkpoint.makeModelAndConfiguration(requested, inputShape: inputShape)
    self.model = model
    self.modelName = configuration.modelName
    self.inputShape = configuration.inputShape
    self.classNames = checkpoint.classNames ?? (0..<configuration.classCount).map(String.init)
    self.normalization = checkpoint.run?.normalization
    self.run = checkpoint.run
    self.checkpoint = checkpoint
    self.source = source
  }

  /// The number of classes.
  public var classCount: Int { classNames.count }

  /// One image as the model's input `[1, C, H, W]`: converted to the model's channels (colour
  /// to grey by luma, grey copied to RGB), resized to its size (antialiased bilinear, as an
  /// image folder is resized for training), optionally inverted (for dark strokes on a light
  /// background), scaled to `[0, 1]` and normalized as in training.
  public func input(from image: Image, invert: Bool = false) -> Tensor {
    var converted = image.converted(toChannels: inputShape[0]).resized(width: inputShape[2], height: inputShape[1])
    if invert { converted.pixels = converted.pixels.map { 255 - $0 } }
    return prepared(converted.tensor())
  }

  /// A batch `[N, C, H, W]` of pixels in `[0, 1]`, normalized as in training.
  public func prepared(_ batch: Tensor) -> Tensor {
    normalization?.applied(to: batch) ?? batch
  }

  /// The softmax of the model's logits for `input` (already ``prepared(_:)``), one row per image,
  /// computed stably in `Double`.
  public func probabilities(for input: Tensor) -> [[Double]] {
    let logits = model(input)
    let classes = logits.shape[1]
    let scalars = logits.scalars
    return (0..<logits.shape[0]).map { row in
      let values = scalars[(row * classes)..<((row + 1) * classes)].map(Double.init)
      let largest = values.max() ?? 0
      let exponentials = values.map { Foundation.exp($0 - largest) }
      let sum = exponentials.reduce(0, +)
      return exponentials.map { $0 / sum }
    }
  }

  /// The data the model was trained on, or `requested` when given.
  /// - Throws: `RestoreError.unknownData` when neither says which data, or a `DatasetError`.
  public func data(_ requested: DatasetSpecification?) throws -> (training: Dataset, test: Dataset) {
    guard let specification = requested ?? run?.dataset else { throw RestoreError.unknownData(source) }
    return try specification.load()
  }

  /// Checks that `dataset` holds images of the model's shape, labelled with its classes.
  /// - Throws: `RestoreError.dataMismatch` saying which differs and what to pass instead.
  public func checkFits(_ dataset: Dataset) throws(RestoreError) {
    let shape = Shape([dataset.channels, dataset.height, dataset.width])
    guard shape == inputShape else {
      throw .dataMismatch(source, "it takes \(inputShape) images, but the data holds \(shape)")
    }
    guard dataset.classCount == classCount else {
      throw .dataMismatch(source, "it predicts \(classCount) classes, but the data has \(dataset.classCount)")
    }
    if run != nil || checkpoint.classNames != nil, dataset.classNames != classNames {
      throw .dataMismatch(
        source, "its classes are \(classNames.prefix(10).joined(separator: ", ")), the data's "
          + dataset.classNames.prefix(10).joined(separator: ", "))
    }
  }
}

/// Why a restored model cannot be used with some data.
public enum RestoreError: Error, CustomStringConvertible, Sendable {
  /// The checkpoint does not say which data trained it, and none was given.
  case unknownData(String)
  /// The data is not what the model was trained on.
  case dataMismatch(String, String)

  public var description: String {
    switch self {
    case .unknownData(let source):
      return "\(source) does not record the data it was trained on.\n"
        + "---> HINT: pass --dataset (and --data-dir) to choose the data."
    case .dataMismatch(let source, let reason):
      return "\(source) does not fit this data: \(reason).\n"
        + "---> HINT: pass the --dataset and --data-dir it was trained on, or leave them out to use the ones it records."
    }
  }
}
