import CNNLayers
import CNNOptimizers
import CNNTensor

/// Where a run stands after a whole number of epochs: everything besides the weights and the
/// ``RunConfiguration`` that continues it bit for bit.
///
/// That is the epochs done, the optimizer's learning rate, moments and step counts, the
/// shuffling generator's state, the dropout layers' generators, reduce-on-plateau's memory
/// and the health check's count of epochs at chance. A checkpoint stores it as the JSON
/// metadata entry `state` (the optimizer's tensors under `optimizer.`).
public struct TrainingState: Sendable, Equatable {
  /// Full epochs finished; the run continues with epoch `epochsCompleted + 1`.
  public var epochsCompleted: Int
  /// The optimizer's learning rate when saved.
  public var learningRate: Float
  /// `Optimizer.stateTensors(for: model.parameters)`, keyed `"<index>.<name>"`.
  public var optimizerState: [String: Tensor]
  /// The generator that shuffles the batches, as it was after the last completed epoch.
  public var generator: SeededGenerator
  /// The generators of the model's `Dropout` layers, in structural order.
  public var dropoutGenerators: [SeededGenerator]
  /// Reduce-on-plateau's memory, or `nil` for schedules that keep none.
  public var scheduleState: ScheduleState?
  /// Epochs in a row at chance accuracy so far (the health check's count).
  public var epochsAtChance: Int

  public init(
    epochsCompleted: Int, learningRate: Float, optimizerState: [String: Tensor], generator: SeededGenerator,
    dropoutGenerators: [SeededGenerator] = [], scheduleState: ScheduleState? = nil, epochsAtChance: Int = 0
  ) {
    self.epochsCompleted = epochsCompleted
    self.learningRate = learningRate
    self.optimizerState = optimizerState
    self.generator = generator
    self.dropoutGenerators = dropoutGenerators
    self.scheduleState = scheduleState
    self.epochsAtChance = epochsAtChance
  }

  /// Captures a run after `epochsCompleted` epochs: `optimizer`'s state for
  /// `model.parameters` (the list the trainer steps) and the dropout layers of `model`.
  public init(
    epochsCompleted: Int, optimizer: any Optimizer, model: any Layer, generator: SeededGenerator,
    schedule: LearningRateSchedule? = nil, epochsAtChance: Int = 0
  ) {
    self.init(
      epochsCompleted: epochsCompleted, learningRate: optimizer.learningRate,
      optimizerState: optimizer.stateTensors(for: model.parameters), generator: generator,
      dropoutGenerators: dropoutLayers(in: model).map(\.generator), scheduleState: schedule?.state,
      epochsAtChance: epochsAtChance)
  }

  /// Loads the saved moments and step counts into `optimizer` for `model.parameters`.
  /// - Throws: `CheckpointError.nonFiniteTensor` when a moment holds NaN or an infinity (the
  ///   first step would spread it to every weight), `.optimizerState` when the state does not
  ///   fit the parameters.
  public func restoreOptimizer(_ optimizer: any Optimizer, for model: any Layer) throws(CheckpointError) {
    for (key, tensor) in optimizerState.sorted(by: { $0.key.compareNumerically(to: $1.key) }) {
      try Checkpoint.checkFinite(tensor, key: Checkpoint.optimizerPrefix + key)
    }
    do {
      try optimizer.loadState(optimizerState, for: model.parameters)
    } catch {
      throw .optimizerState(error)
    }
    optimizer.learningRate = learningRate
  }

  /// Puts the saved generators back into the dropout layers of `model`.
  /// - Throws: `CheckpointError.invalidMetadata` when `model` has another number of them.
  public func restoreDropout(in model: any Layer) throws(CheckpointError) {
    let layers = dropoutLayers(in: model)
    guard layers.count == dropoutGenerators.count else {
      throw .invalidMetadata(
        key: "state.dropout_generators", value: "\(dropoutGenerators.count) generators",
        expected: "one per dropout layer of the model (\(layers.count))")
    }
    for (layer, generator) in zip(layers, dropoutGenerators) { layer.generator = generator }
  }
}

// MARK: - The `state` metadata entry

extension TrainingState {
  /// The JSON form of everything but the optimizer's tensors.
  struct Record: Codable, Equatable {
    var epochsCompleted: Int
    var learningRate: Float
    var generator: [UInt64]
    var dropoutGenerators: [[UInt64]]
    var scheduleState: ScheduleState?
    var epochsAtChance: Int

    enum CodingKeys: String, CodingKey {
      case epochsCompleted = "epochs_completed"
      case learningRate = "learning_rate"
      case generator
      case dropoutGenerators = "dropout_generators"
      case scheduleState = "schedule_state"
      case epochsAtChance = "epochs_at_chance"
    }
  }

  var record: Record {
    Record(
      epochsCompleted: epochsCompleted, learningRate: learningRate, generator: Self.words(generator),
      dropoutGenerators: dropoutGenerators.map(Self.words), scheduleState: scheduleState,
      epochsAtChance: epochsAtChance)
  }

  /// Rebuilds the state from its record, checking every value.
  init(record: Record, optimizerState: [String: Tensor]) throws(CheckpointError) {
    func invalid(_ key: String, _ value: String, _ expected: String) -> CheckpointError {
      .invalidMetadata(key: "state.\(key)", value: value, expected: expected)
    }
    guard RunLimits.epochs.contains(record.epochsCompleted) || record.epochsCompleted == 0 else {
      throw invalid("epochs_completed", "\(record.epochsCompleted)", "a whole number in 0…\(RunLimits.epochs.upperBound)")
    }
    guard record.learningRate.isFinite, record.learningRate >= 0 else {
      throw invalid("learning_rate", "\(record.learningRate)", "a finite number ≥ 0")
    }
    guard let generator = Self.generator(record.generator) else {
      throw invalid("generator", "\(record.generator)", "four UInt64 words, not all zero")
    }
    var dropouts: [SeededGenerator] = []
    for words in record.dropoutGenerators {
      guard let dropout = Self.generator(words) else {
        throw invalid("dropout_generators", "\(words)", "four UInt64 words per generator, not all zero")
      }
      dropouts.append(dropout)
    }
    guard record.epochsAtChance >= 0, record.epochsAtChance <= record.epochsCompleted else {
      throw invalid("epochs_at_chance", "\(record.epochsAtChance)", "a whole number from 0 to the epochs completed")
    }
    if let state = record.scheduleState, state.badEpochs < 0 || state.reductions < 0 || state.best?.isNaN == true {
      throw invalid("schedule_state", "\(state)", "counts ≥ 0 and a number for the best loss")
    }
    self.init(
      epochsCompleted: record.epochsCompleted, learningRate: record.learningRate, optimizerState: optimizerState,
      generator: generator, dropoutGenerators: dropouts, scheduleState: record.scheduleState,
      epochsAtChance: record.epochsAtChance)
  }

  static func words(_ generator: SeededGenerator) -> [UInt64] {
    let (a, b, c, d) = generator.state
    return [a, b, c, d]
  }

  /// A generator with the four words as its state; `nil` for another count or all zeros (an
  /// all-zero xoshiro256** state only ever yields zeros, and shuffling with it never ends).
  static func generator(_ words: [UInt64]) -> SeededGenerator? {
    guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
    var generator = SeededGenerator(seed: 0)
    generator.state = (words[0], words[1], words[2], words[3])
    return generator
  }
}
