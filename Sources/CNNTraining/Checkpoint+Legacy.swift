import CNNData
import CNNModels
import CNNOptimizers
import CNNTensor

/// Reading checkpoints of format version 1, which kept a training state as separate
/// metadata strings: `epochs_completed`, `optimizer`, `learning_rate`, `seed`,
/// `generator_state` (four decimal words), `batch_size`, `dropout_generators` (`;`-separated),
/// and the run's settings as `training.<key>` (`training.augment`, `training.schedule`, …).
/// They become a ``RunConfiguration`` and a ``TrainingState``, so every command treats old and
/// new files alike.
extension Checkpoint {
  /// The fixed keys of a version-1 training state.
  private enum LegacyKey {
    static let epochsCompleted = "epochs_completed"
    static let optimizer = "optimizer"
    static let learningRate = "learning_rate"
    static let seed = "seed"
    static let generatorState = "generator_state"
    static let batchSize = "batch_size"
    static let dropoutGenerators = "dropout_generators"
    static let all = [epochsCompleted, optimizer, learningRate, seed, generatorState, batchSize, dropoutGenerators]
    static let extraPrefix = "training."
  }

  static func legacyHasTraining(_ metadata: [String: String]) -> Bool {
    metadata[LegacyKey.epochsCompleted] != nil
  }

  static func withoutLegacyKeys(_ metadata: [String: String]) -> [String: String] {
    metadata.filter { !LegacyKey.all.contains($0.key) && !$0.key.hasPrefix(LegacyKey.extraPrefix) }
  }

  /// The run and state a version-1 file describes; both `nil` for weights alone.
  static func legacyRun(
    metadata: [String: String], modelName: ModelName, inputShape: Shape?, classNames: [String]?, classCount: Int?,
    optimizerState: [String: Tensor]
  ) throws(CheckpointError) -> (RunConfiguration?, TrainingState?) {
    guard legacyHasTraining(metadata) else { return (nil, nil) }
    func value(_ key: String) throws(CheckpointError) -> String {
      guard let text = metadata[key] else { throw .invalidMetadata(key: key, value: nil, expected: "a value") }
      return text
    }
    func whole(_ key: String, in range: ClosedRange<Int>) throws(CheckpointError) -> Int {
      let text = try value(key)
      guard let number = Int(text), range.contains(number) else {
        throw .invalidMetadata(key: key, value: text, expected: "a whole number in \(range.lowerBound)…\(range.upperBound)")
      }
      return number
    }
    func number(_ key: String, _ text: String, positive: Bool) throws(CheckpointError) -> Float {
      guard let number = Float(text), number.isFinite, positive ? number > 0 : number >= 0 else {
        throw .invalidMetadata(key: key, value: text, expected: positive ? "a finite number > 0" : "a finite number ≥ 0")
      }
      return number
    }
    let extra = Dictionary(
      uniqueKeysWithValues: metadata.filter { $0.key.hasPrefix(LegacyKey.extraPrefix) }.map {
        (String($0.key.dropFirst(LegacyKey.extraPrefix.count)), $0.value)
      })
    func setting(_ key: String) -> String? { extra[key] }
    let extraKey = { (key: String) in LegacyKey.extraPrefix + key }

    let kindText = try value(LegacyKey.optimizer)
    guard let kind = OptimizerKind(rawValue: kindText) else {
      throw .invalidMetadata(
        key: LegacyKey.optimizer, value: kindText,
        expected: "one of " + OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))
    }
    let rate = try number(LegacyKey.learningRate, try value(LegacyKey.learningRate), positive: false)
    let seedText = try value(LegacyKey.seed)
    guard let seed = UInt64(seedText) else {
      throw .invalidMetadata(key: LegacyKey.seed, value: seedText, expected: "a whole number in 0…2⁶⁴−1")
    }
    let generatorText = try value(LegacyKey.generatorState)
    guard let generator = legacyGenerator(generatorText) else {
      throw .invalidMetadata(
        key: LegacyKey.generatorState, value: generatorText, expected: "four comma-separated UInt64 words, not all zero")
    }
    var dropouts: [SeededGenerator] = []
    let dropoutText = metadata[LegacyKey.dropoutGenerators] ?? ""
    for part in dropoutText.split(separator: ";") {
      guard let dropout = legacyGenerator(String(part)) else {
        throw .invalidMetadata(
          key: LegacyKey.dropoutGenerators, value: dropoutText, expected: "';'-separated groups of four UInt64 words")
      }
      dropouts.append(dropout)
    }
    let epochsCompleted = try whole(LegacyKey.epochsCompleted, in: 0...RunLimits.epochs.upperBound)
    let batchSize = try whole(LegacyKey.batchSize, in: RunLimits.batchSize)
    let epochs = setting("epochs").flatMap(Int.init).map { max($0, epochsCompleted) } ?? max(1, epochsCompleted)

    var schedule = ScheduleSpecification.constant
    var baseRate = rate
    if let text = setting("schedule") {
      do {
        schedule = try ScheduleSpecification(parsing: text)
      } catch {
        throw .invalidMetadata(key: extraKey("schedule"), value: text, expected: "a schedule: \(error.reason)")
      }
      // Version 1 wrote a whole-run cosine with its length spelled out.
      if case .cosine(let span?, let minimum) = schedule.decay, span == epochs {
        schedule.decay = .cosine(epochs: nil, minimum: minimum)
      }
      guard let base = setting("base_learning_rate") else {
        throw .invalidMetadata(key: extraKey("base_learning_rate"), value: nil, expected: "the schedule's base rate")
      }
      baseRate = try number(extraKey("base_learning_rate"), base, positive: true)
    }
    let weightDecay = try setting("weight_decay").map { (text) throws(CheckpointError) in
      try number(extraKey("weight_decay"), text, positive: false)
    }
    let clipNorm = try setting("clip_norm").map { (text) throws(CheckpointError) in
      try number(extraKey("clip_norm"), text, positive: true)
    }
    let augmentation: AugmentationPipeline
    do {
      augmentation = try setting("augment").map { try AugmentationPipeline(parsing: $0) } ?? .none
    } catch {
      throw .invalidMetadata(key: extraKey("augment"), value: setting("augment"), expected: "an augmentation list")
    }
    let normalization = try setting("normalization").map { (text) throws(CheckpointError) in
      guard let value = Normalization(parsing: text) else {
        throw .invalidMetadata(key: extraKey("normalization"), value: text, expected: "mean=…;std=…")
      }
      return value
    }
    var dataset = DatasetSpecification.mnistSample
    if let kindText = setting("dataset") {
      guard let kind = DatasetSpecification.Kind(rawValue: kindText) else {
        throw .invalidMetadata(
          key: extraKey("dataset"), value: kindText,
          expected: "one of " + DatasetSpecification.Kind.allCases.map(\.rawValue).joined(separator: ", "))
      }
      dataset = DatasetSpecification(
        kind: kind, directory: setting("data_dir").flatMap { $0 == "bundled" ? nil : $0 },
        imageSize: setting("image_size").flatMap { DatasetSpecification.ImageSize(parsing: $0) },
        channels: setting("channels").flatMap(Int.init))
    }
    guard let inputShape else {
      throw .invalidMetadata(key: MetadataKey.inputShape, value: nil, expected: "the image shape beside a training state")
    }
    let names = classNames ?? (0..<(classCount ?? modelName.defaultClassCount)).map(String.init)
    let run = RunConfiguration(
      model: modelName, dataset: dataset, inputShape: inputShape.dimensions, classNames: names,
      normalization: normalization, augmentation: augmentation, schedule: schedule,
      optimizer: OptimizerSettings(kind: kind, learningRate: baseRate, weightDecay: weightDecay, clipNorm: clipNorm),
      epochs: epochs, batchSize: batchSize, dropLastBatch: setting("drop_last") == "true", seed: seed,
      threads: setting("threads").flatMap(Int.init) ?? 1,
      stopAtChance: setting("stop_at_chance").flatMap(Int.init) ?? 3)
    var scheduleState: ScheduleState?
    if let text = setting("schedule_state"), !text.isEmpty {
      var planned = schedule.planned(baseLearningRate: baseRate, epochs: epochs)
      guard planned.restoreState(text) else {
        throw .invalidMetadata(key: extraKey("schedule_state"), value: text, expected: "best=…,bad_epochs=…,reductions=…")
      }
      scheduleState = planned.state
    }
    let state = TrainingState(
      epochsCompleted: epochsCompleted, learningRate: rate, optimizerState: optimizerState, generator: generator,
      dropoutGenerators: dropouts, scheduleState: scheduleState,
      epochsAtChance: min(epochsCompleted, max(0, setting("epochs_at_chance").flatMap(Int.init) ?? 0)))
    return (run, state)
  }

  private static func legacyGenerator(_ text: String) -> SeededGenerator? {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let words = parts.compactMap { UInt64($0) }
    guard words.count == parts.count else { return nil }
    return TrainingState.generator(words)
  }
}

extension Checkpoint {
  /// Whether a CNNKit file's metadata holds a training state (either format version).
  static func hasTrainingState(_ metadata: [String: String]) -> Bool {
    metadata[MetadataKey.state] != nil || legacyHasTraining(metadata)
  }
}
