/// The JSON-lines schema of training events (`cnn train --json`), as `Codable` conformances.
///
/// Keys are snake_case; seconds are rounded to milliseconds and images per second to whole
/// numbers when encoded. One event is one flat object whose `event` names its kind:
///
///     {"event":"epoch","epoch":3,"evaluation_seconds":0.1,"images_per_second":12346,
///      "learning_rate":0.00075,"seconds":1.235,"test_accuracy":0.965,"test_loss":0.25,
///      "train_accuracy":0.96,"train_loss":0.125}
///
/// Decoding also reads logs written before a key existed: a `seed` written as a string, and
/// no `learning_rate`, `notes`, `dataset`, `running_loss` or batch `seconds` (see each type).
extension TrainingEvent: Codable {
  enum CodingKeys: String, CodingKey { case event }

  /// The value of the `event` key: `started`, `batch`, `epoch`, `finished` or `control`.
  public var kind: String {
    switch self {
    case .started: return "started"
    case .batch: return "batch"
    case .epoch: return "epoch"
    case .finished: return "finished"
    case .control: return "control"
    }
  }

  /// The event without its kind: what is encoded next to `event`.
  var payload: any Encodable {
    switch self {
    case .started(let start): return start
    case .batch(let progress): return progress
    case .epoch(let summary): return summary
    case .finished(let result): return result
    case .control(let change): return change
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .event)
    try payload.encode(to: encoder)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try container.decode(String.self, forKey: .event)
    switch kind {
    case "started": self = .started(try TrainingStart(from: decoder))
    case "batch": self = .batch(try BatchProgress(from: decoder))
    case "epoch": self = .epoch(try EpochSummary(from: decoder))
    case "finished": self = .finished(try TrainingResult(from: decoder))
    case "control": self = .control(try ControlChange(from: decoder))
    default:
      throw DecodingError.dataCorruptedError(
        forKey: .event, in: container,
        debugDescription: "unknown event \"\(kind)\" (expected started, batch, epoch, finished or control)")
    }
  }
}

/// `{"event":"started","model":"lenet5","parameters":61706,…,"seed":42,"notes":["…"]}`.
/// `notes` is left out when empty, and `dataset`, `optimizer_settings` (every setting of the
/// optimizer, as the console header prints it), `normalization` and `eval_sample` (the fixed
/// evaluation sample of `--eval-sample`) when unknown or unset; `seed` is a number (logs
/// written before it was may hold it as a string, which decodes too).
extension TrainingStart: Codable {
  enum CodingKeys: String, CodingKey {
    case model, parameters, epochs, optimizer, seed, augmentation, schedule, notes, dataset, normalization
    case optimizerSettings = "optimizer_settings", evaluationSample = "eval_sample"
    case trainingSamples = "train_samples", testSamples = "test_samples", batchSize = "batch_size"
    case batchesPerEpoch = "batches_per_epoch", learningRate = "learning_rate"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(model, forKey: .model)
    try container.encode(parameterCount, forKey: .parameters)
    try container.encode(trainingSamples, forKey: .trainingSamples)
    try container.encode(testSamples, forKey: .testSamples)
    try container.encode(epochs, forKey: .epochs)
    try container.encode(batchSize, forKey: .batchSize)
    try container.encode(batchesPerEpoch, forKey: .batchesPerEpoch)
    try container.encode(optimizer, forKey: .optimizer)
    try container.encode(learningRate, forKey: .learningRate)
    try container.encode(seed, forKey: .seed)
    try container.encode(augmentation, forKey: .augmentation)
    try container.encode(schedule, forKey: .schedule)
    if !notes.isEmpty { try container.encode(notes, forKey: .notes) }
    try container.encodeIfPresent(dataset, forKey: .dataset)
    try container.encodeIfPresent(optimizerSettings, forKey: .optimizerSettings)
    try container.encodeIfPresent(normalization, forKey: .normalization)
    try container.encodeIfPresent(evaluationSample, forKey: .evaluationSample)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    model = try container.decode(String.self, forKey: .model)
    parameterCount = try container.decode(Int.self, forKey: .parameters)
    trainingSamples = try container.decode(Int.self, forKey: .trainingSamples)
    testSamples = try container.decode(Int.self, forKey: .testSamples)
    epochs = try container.decode(Int.self, forKey: .epochs)
    batchSize = try container.decode(Int.self, forKey: .batchSize)
    batchesPerEpoch = try container.decode(Int.self, forKey: .batchesPerEpoch)
    optimizer = try container.decode(String.self, forKey: .optimizer)
    learningRate = try container.decode(Float.self, forKey: .learningRate)
    seed = try Self.decodeSeed(from: container)
    augmentation = try container.decodeIfPresent(String.self, forKey: .augmentation) ?? "none"
    schedule = try container.decodeIfPresent(String.self, forKey: .schedule) ?? "constant"
    notes = try container.decodeIfPresent([String].self, forKey: .notes) ?? []
    dataset = try container.decodeIfPresent(String.self, forKey: .dataset)
    optimizerSettings = try container.decodeIfPresent(String.self, forKey: .optimizerSettings)
    normalization = try container.decodeIfPresent(String.self, forKey: .normalization)
    evaluationSample = try container.decodeIfPresent(Int.self, forKey: .evaluationSample)
  }

  /// A number, `null`, or (in older logs) a string of digits.
  private static func decodeSeed(from container: KeyedDecodingContainer<CodingKeys>) throws -> UInt64? {
    if let text = try? container.decodeIfPresent(String.self, forKey: .seed) {
      guard let seed = UInt64(text) else {
        throw DecodingError.dataCorruptedError(
          forKey: .seed, in: container, debugDescription: "seed \"\(text)\" is not a whole number")
      }
      return seed
    }
    return try container.decodeIfPresent(UInt64.self, forKey: .seed)
  }
}

/// `{"event":"batch","epoch":1,"batch":20,"batches":60,"loss":0.41,"running_loss":0.73,
/// "images_per_second":5210,"seconds":0.384}`. `seconds` is ``BatchProgress/elapsed``.
/// Lines written before `running_loss` and `seconds` existed decode with the batch's loss
/// and 0 seconds.
extension BatchProgress: Codable {
  enum CodingKeys: String, CodingKey {
    case epoch, batch, loss
    case batchesPerEpoch = "batches", runningLoss = "running_loss", imagesPerSecond = "images_per_second"
    case elapsed = "seconds"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(epoch, forKey: .epoch)
    try container.encode(batch, forKey: .batch)
    try container.encode(batchesPerEpoch, forKey: .batchesPerEpoch)
    try container.encode(loss, forKey: .loss)
    try container.encode(runningLoss, forKey: .runningLoss)
    try container.encode(imagesPerSecond.rounded(), forKey: .imagesPerSecond)
    try container.encode(milliseconds(elapsed), forKey: .elapsed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    epoch = try container.decode(Int.self, forKey: .epoch)
    batch = try container.decode(Int.self, forKey: .batch)
    batchesPerEpoch = try container.decode(Int.self, forKey: .batchesPerEpoch)
    loss = try container.decode(Float.self, forKey: .loss)
    runningLoss = try container.decodeIfPresent(Float.self, forKey: .runningLoss) ?? loss
    imagesPerSecond = try container.decode(Double.self, forKey: .imagesPerSecond)
    elapsed = try container.decodeIfPresent(Double.self, forKey: .elapsed) ?? 0
  }
}

/// `{"event":"epoch","epoch":3,"train_loss":0.125,"train_accuracy":0.96,"test_loss":0.25,
/// "test_accuracy":0.965,"learning_rate":0.00075,"seconds":1.235,"evaluation_seconds":0.1,
/// "images_per_second":12346,"test_images":1000}`. With a fixed evaluation sample
/// (`--eval-sample`) `sample_train_accuracy` is the accuracy on that many training images,
/// measured after the epoch. Without a test set `test_loss` and `test_accuracy` are
/// `null`; a non-finite loss is the string `"NaN"` or `"Infinity"`. Lines written before
/// `learning_rate` existed decode with a learning rate of 0.
extension EpochSummary: Codable {
  enum CodingKeys: String, CodingKey {
    case epoch, seconds
    case trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss"
    case testAccuracy = "test_accuracy", learningRate = "learning_rate"
    case evaluationSeconds = "evaluation_seconds", imagesPerSecond = "images_per_second"
    case sampleTrainAccuracy = "sample_train_accuracy", testImages = "test_images"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(epoch, forKey: .epoch)
    try container.encode(trainLoss, forKey: .trainLoss)
    try container.encode(trainAccuracy, forKey: .trainAccuracy)
    try container.encode(testLoss, forKey: .testLoss)
    try container.encode(testAccuracy, forKey: .testAccuracy)
    try container.encode(learningRate, forKey: .learningRate)
    try container.encode(milliseconds(seconds), forKey: .seconds)
    try container.encode(milliseconds(evaluationSeconds), forKey: .evaluationSeconds)
    try container.encode(imagesPerSecond.rounded(), forKey: .imagesPerSecond)
    try container.encodeIfPresent(sampleTrainAccuracy, forKey: .sampleTrainAccuracy)
    try container.encodeIfPresent(testImages, forKey: .testImages)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    epoch = try container.decode(Int.self, forKey: .epoch)
    trainLoss = try container.decode(Float.self, forKey: .trainLoss)
    trainAccuracy = try container.decode(Float.self, forKey: .trainAccuracy)
    testLoss = try container.decodeIfPresent(Float.self, forKey: .testLoss)
    testAccuracy = try container.decodeIfPresent(Float.self, forKey: .testAccuracy)
    learningRate = try container.decodeIfPresent(Float.self, forKey: .learningRate) ?? 0
    seconds = try container.decode(Double.self, forKey: .seconds)
    evaluationSeconds = try container.decodeIfPresent(Double.self, forKey: .evaluationSeconds) ?? 0
    imagesPerSecond = try container.decode(Double.self, forKey: .imagesPerSecond)
    sampleTrainAccuracy = try container.decodeIfPresent(Float.self, forKey: .sampleTrainAccuracy)
    testImages = try container.decodeIfPresent(Int.self, forKey: .testImages)
  }
}

/// `{"event":"finished","epochs":2,"test_accuracy":0.97,"training_seconds":1.6,
/// "total_seconds":1.8,"train_acc_list":[0.91,0.95],"test_acc_list":[0.93,0.97],
/// "history":[{…epoch…},{…epoch…}]}`: `epochs` counts the epochs run, `history` holds their
/// summaries (the epoch lines without `event`), and `train_acc_list` and `test_acc_list` are
/// the seeds' lists (``TrainingResult/trainAccuracies``, ``TrainingResult/testAccuracies``). A run stopped by a
/// health check adds ``TrainingStop``'s keys (`stopped`, `message`, `hint`, …).
extension TrainingResult: Codable {
  enum CodingKeys: String, CodingKey {
    case epochs, history
    case testAccuracy = "test_accuracy", trainingSeconds = "training_seconds", totalSeconds = "total_seconds"
    case stopped
    case trainAccuracies = "train_acc_list", testAccuracies = "test_acc_list"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(epochs.count, forKey: .epochs)
    try container.encode(finalTestAccuracy, forKey: .testAccuracy)
    try container.encode(milliseconds(trainingSeconds), forKey: .trainingSeconds)
    try container.encode(milliseconds(totalSeconds), forKey: .totalSeconds)
    try container.encode(trainAccuracies, forKey: .trainAccuracies)
    try container.encode(testAccuracies, forKey: .testAccuracies)
    try container.encode(epochs, forKey: .history)
    try stop?.encode(to: encoder)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    epochs = try container.decode([EpochSummary].self, forKey: .history)
    trainingSeconds = try container.decode(Double.self, forKey: .trainingSeconds)
    totalSeconds = try container.decode(Double.self, forKey: .totalSeconds)
    stop = container.contains(.stopped) ? try TrainingStop(from: decoder) : nil
  }
}

/// Flat keys, so a `finished` line reads `"stopped":"non_finite_loss","message":…,"hint":…`
/// followed by the values that caused the stop: `stop_epoch`, `stop_batch` (`null` when the
/// loss failed in evaluation) and `loss` for a non-finite loss; `epochs_at_chance`,
/// `accuracy` and `chance` for a run stuck at chance. `message` and `hint` are written for
/// readers and recomputed when decoding.
extension TrainingStop: Codable {
  enum CodingKeys: String, CodingKey {
    case stopped, message, hint, loss, accuracy, chance
    case epoch = "stop_epoch", batch = "stop_batch", epochsAtChance = "epochs_at_chance"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .stopped)
    try container.encode(problem, forKey: .message)
    try container.encode(hint, forKey: .hint)
    switch self {
    case .nonFiniteLoss(let epoch, let batch, let loss):
      try container.encode(epoch, forKey: .epoch)
      try container.encode(batch, forKey: .batch)
      try container.encode(loss, forKey: .loss)
    case .stuckAtChance(let epochs, let accuracy, let chance):
      try container.encode(epochs, forKey: .epochsAtChance)
      try container.encode(accuracy, forKey: .accuracy)
      try container.encode(chance, forKey: .chance)
    case .requested(let epoch, let batch):
      try container.encode(epoch, forKey: .epoch)
      try container.encode(batch, forKey: .batch)
    }
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try container.decode(String.self, forKey: .stopped)
    switch kind {
    case "non_finite_loss":
      self = .nonFiniteLoss(
        epoch: try container.decode(Int.self, forKey: .epoch),
        batch: try container.decodeIfPresent(Int.self, forKey: .batch),
        loss: try container.decode(Float.self, forKey: .loss))
    case "stuck_at_chance":
      self = .stuckAtChance(
        epochs: try container.decode(Int.self, forKey: .epochsAtChance),
        accuracy: try container.decode(Float.self, forKey: .accuracy),
        chance: try container.decode(Float.self, forKey: .chance))
    case "requested":
      self = .requested(
        epoch: try container.decode(Int.self, forKey: .epoch), batch: try container.decodeIfPresent(Int.self, forKey: .batch))
    default:
      throw DecodingError.dataCorruptedError(
        forKey: .stopped, in: container,
        debugDescription: "unknown stop \"\(kind)\" (expected non_finite_loss, stuck_at_chance or requested)")
    }
  }
}

/// `{"event":"control","action":"paused","epoch":1,"batch":20}`, and for a new learning rate
/// `{"event":"control","action":"learning_rate","epoch":2,"batch":5,"learning_rate":0.01,
/// "previous_learning_rate":0.001}`.
extension ControlChange: Codable {
  enum CodingKeys: String, CodingKey {
    case action, epoch, batch
    case learningRate = "learning_rate", previousLearningRate = "previous_learning_rate"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(action, forKey: .action)
    try container.encode(epoch, forKey: .epoch)
    try container.encode(batch, forKey: .batch)
    try container.encodeIfPresent(learningRate, forKey: .learningRate)
    try container.encodeIfPresent(previousLearningRate, forKey: .previousLearningRate)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    action = try container.decode(Action.self, forKey: .action)
    epoch = try container.decode(Int.self, forKey: .epoch)
    batch = try container.decode(Int.self, forKey: .batch)
    learningRate = try container.decodeIfPresent(Float.self, forKey: .learningRate)
    previousLearningRate = try container.decodeIfPresent(Float.self, forKey: .previousLearningRate)
  }
}

/// `seconds` rounded to milliseconds, as the log writes durations.
private func milliseconds(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
