import CNNLayers
import CNNOptimizers
import CNNTensor

/// Everything besides the weights that continues a training run bit for bit: the epochs
/// done, the optimizer (kind, learning rate, moments and step counts), the shuffling
/// generator's state, the dropout layers' generators, and the configuration that shapes the
/// batches.
///
/// Resuming means: rebuild the model from the checkpoint, `makeOptimizer(for:)`, restore the
/// dropout generators (`restoreDropout(in:)`), and continue `Trainer.fit` at epoch
/// `epochsCompleted + 1` with `generator`. Training 4 epochs, saving, and resuming for 4 more
/// then gives the same weights as 8 epochs in one go.
///
/// Metadata keys: `epochs_completed`, `optimizer` (an `OptimizerKind` raw value),
/// `learning_rate` (shortest round-trip decimal), `seed`, `generator_state` (the four
/// xoshiro256** words, decimal, comma-separated), `batch_size`, `dropout_generators` (the
/// same for each dropout layer in structural order, separated by `;`), and `training.<key>`
/// for each entry of `extra`.
public struct TrainingState: Sendable, Equatable {
  /// Full epochs finished; the run continues with epoch `epochsCompleted + 1`.
  public var epochsCompleted: Int
  /// The optimizer's kind; its other hyper-parameters are the kind's defaults.
  public var optimizer: OptimizerKind
  /// The optimizer's learning rate when saved (the schedule position, while schedules are
  /// per-epoch functions of `epochsCompleted`).
  public var learningRate: Float
  /// `Optimizer.stateTensors(for: model.parameters)`, keyed `"<index>.<name>"`.
  public var optimizerState: [String: Tensor]
  /// The generator that shuffles the batches, as it was after the last completed epoch.
  public var generator: SeededGenerator
  /// The seed the run started from (for reports; `generator` is what resumes).
  public var seed: UInt64
  /// Samples per optimizer step.
  public var batchSize: Int
  /// The generators of the model's `Dropout` layers, in structural order.
  public var dropoutGenerators: [SeededGenerator]
  /// Anything else the trainer wants back (dataset, planned epochs), stored as `training.<key>`.
  public var extra: [String: String]

  public init(
    epochsCompleted: Int, optimizer: OptimizerKind, learningRate: Float, optimizerState: [String: Tensor],
    generator: SeededGenerator, seed: UInt64, batchSize: Int, dropoutGenerators: [SeededGenerator] = [],
    extra: [String: String] = [:]
  ) {
    self.epochsCompleted = epochsCompleted
    self.optimizer = optimizer
    self.learningRate = learningRate
    self.optimizerState = optimizerState
    self.generator = generator
    self.seed = seed
    self.batchSize = batchSize
    self.dropoutGenerators = dropoutGenerators
    self.extra = extra
  }

  /// Captures the state of a run after `epochsCompleted` epochs: `optimizer`'s state for
  /// `model.parameters` (the list `Trainer` steps) and the dropout layers of `model`.
  public init(
    epochsCompleted: Int, optimizerKind: OptimizerKind, optimizer: any Optimizer, model: any Layer,
    generator: SeededGenerator, seed: UInt64, batchSize: Int, extra: [String: String] = [:]
  ) {
    self.init(
      epochsCompleted: epochsCompleted, optimizer: optimizerKind, learningRate: optimizer.learningRate,
      optimizerState: optimizer.stateTensors(for: model.parameters), generator: generator, seed: seed,
      batchSize: batchSize, dropoutGenerators: dropoutLayers(in: model).map(\.generator), extra: extra)
  }

  /// A new optimizer of the saved kind and learning rate, holding the saved moments and step
  /// counts for `model.parameters`.
  /// - Throws: `CheckpointError.optimizerState` when the state does not fit the parameters.
  public func makeOptimizer(for model: any Layer) throws(CheckpointError) -> any Optimizer {
    let optimizer = self.optimizer.make(learningRate: learningRate)
    do {
      try optimizer.loadState(optimizerState, for: model.parameters)
    } catch {
      throw .optimizerState(error)
    }
    return optimizer
  }

  /// Puts the saved generators back into the dropout layers of `model`.
  /// - Throws: `CheckpointError.invalidMetadata` when `model` has another number of them.
  public func restoreDropout(in model: any Layer) throws(CheckpointError) {
    let layers = dropoutLayers(in: model)
    guard layers.count == dropoutGenerators.count else {
      throw .invalidMetadata(
        key: Key.dropoutGenerators, value: "\(dropoutGenerators.count) generators",
        expected: "one per dropout layer of the model (\(layers.count))")
    }
    for (layer, generator) in zip(layers, dropoutGenerators) { layer.generator = generator }
  }

  // MARK: - Metadata

  enum Key {
    static let epochsCompleted = "epochs_completed"
    static let optimizer = "optimizer"
    static let learningRate = "learning_rate"
    static let seed = "seed"
    static let generatorState = "generator_state"
    static let batchSize = "batch_size"
    static let dropoutGenerators = "dropout_generators"
  }

  /// The fixed keys of the training state.
  static let metadataKeys = [
    Key.epochsCompleted, Key.optimizer, Key.learningRate, Key.seed, Key.generatorState, Key.batchSize,
    Key.dropoutGenerators,
  ]
  /// The prefix of `extra`'s keys.
  static let extraPrefix = "training."

  /// Whether `metadata` holds a training state.
  static func isPresent(in metadata: [String: String]) -> Bool {
    metadata[Key.epochsCompleted] != nil
  }

  /// The metadata entries of this state.
  var metadata: [String: String] {
    var metadata: [String: String] = [
      Key.epochsCompleted: String(epochsCompleted),
      Key.optimizer: optimizer.rawValue,
      Key.learningRate: learningRate.description,
      Key.seed: String(seed),
      Key.generatorState: Self.format(generator),
      Key.batchSize: String(batchSize),
      Key.dropoutGenerators: dropoutGenerators.map(Self.format).joined(separator: ";"),
    ]
    for (key, value) in extra { metadata[Self.extraPrefix + key] = value }
    return metadata
  }

  /// Reads the state from checkpoint metadata and the tensors stored under `optimizer.`.
  init(metadata: [String: String], optimizerState: [String: Tensor]) throws(CheckpointError) {
    func value(_ key: String) throws(CheckpointError) -> String {
      guard let text = metadata[key] else { throw .invalidMetadata(key: key, value: nil, expected: "a value") }
      return text
    }
    func whole(_ key: String, minimum: Int) throws(CheckpointError) -> Int {
      let text = try value(key)
      guard let n = Int(text), n >= minimum else {
        throw .invalidMetadata(key: key, value: text, expected: "a whole number ≥ \(minimum)")
      }
      return n
    }
    let kindText = try value(Key.optimizer)
    guard let kind = OptimizerKind(rawValue: kindText) else {
      throw .invalidMetadata(
        key: Key.optimizer, value: kindText,
        expected: "one of " + OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))
    }
    let rateText = try value(Key.learningRate)
    guard let rate = Float(rateText), rate.isFinite, rate >= 0 else {
      throw .invalidMetadata(key: Key.learningRate, value: rateText, expected: "a finite number ≥ 0")
    }
    let seedText = try value(Key.seed)
    guard let seed = UInt64(seedText) else {
      throw .invalidMetadata(key: Key.seed, value: seedText, expected: "a whole number in 0…2⁶⁴−1")
    }
    let generatorText = try value(Key.generatorState)
    guard let generator = Self.parseGenerator(generatorText) else {
      throw .invalidMetadata(key: Key.generatorState, value: generatorText, expected: "four comma-separated UInt64 words")
    }
    let dropoutText = metadata[Key.dropoutGenerators] ?? ""
    var dropouts: [SeededGenerator] = []
    for part in dropoutText.split(separator: ";") {
      guard let dropout = Self.parseGenerator(String(part)) else {
        throw .invalidMetadata(
          key: Key.dropoutGenerators, value: dropoutText, expected: "';'-separated groups of four UInt64 words")
      }
      dropouts.append(dropout)
    }
    var extra: [String: String] = [:]
    for (key, text) in metadata where key.hasPrefix(Self.extraPrefix) {
      extra[String(key.dropFirst(Self.extraPrefix.count))] = text
    }
    self.init(
      epochsCompleted: try whole(Key.epochsCompleted, minimum: 0), optimizer: kind, learningRate: rate,
      optimizerState: optimizerState, generator: generator, seed: seed, batchSize: try whole(Key.batchSize, minimum: 1),
      dropoutGenerators: dropouts, extra: extra)
  }

  private static func format(_ generator: SeededGenerator) -> String {
    let (a, b, c, d) = generator.state
    return "\(a),\(b),\(c),\(d)"
  }

  private static func parseGenerator(_ text: String) -> SeededGenerator? {
    let words = text.split(separator: ",", omittingEmptySubsequences: false).compactMap { UInt64($0) }
    guard words.count == 4, text.split(separator: ",", omittingEmptySubsequences: false).count == 4 else { return nil }
    var generator = SeededGenerator(seed: 0)
    generator.state = (words[0], words[1], words[2], words[3])
    return generator
  }
}

/// The `Dropout` layers inside `model`, each once, in the order of a depth-first walk over
/// the layer tree (the order `namedParameters` uses).
func dropoutLayers(in model: any Layer) -> [Dropout] {
  model.layers(ofType: Dropout.self)
}
