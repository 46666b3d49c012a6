import CNNData
import CNNKernels
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import Foundation

/// One training run as a value of the library: built from a ``RunConfiguration`` or resumed
/// from a checkpoint, run with observers, steered from another thread through ``control``,
/// and saved as a checkpoint after every epoch.
///
///     let data = try configuration.dataset.load()
///     let session = try TrainingSession(configuration: configuration, training: data.training, test: data.test)
///     session.checkpointURL = URL(fileURLWithPath: "run.safetensors")
///     let result = try session.run(observers: [ProgressBar()])
///
/// **Resuming.** `TrainingSession(resuming:…)` rebuilds the model, the optimizer's moments,
/// the generators and the schedule from the checkpoint and continues at the next epoch. A run
/// resumed with the epochs it was planned for continues exactly: its weights match a run
/// that never stopped, bit for bit, given the same thread count and CPU kernels. A run
/// extended past its planned end (`epochs` larger than planned) re-plans a schedule that
/// depends on the run's length (a cosine over the whole run) to end at the new last epoch;
/// its first epochs followed the shorter curve, so it is not the same as a run planned that
/// long from the start. Every such difference is written in ``notes``, which the run's
/// `started` event carries as its first lines.
public final class TrainingSession {
  /// The run, as it is being trained (after a resume: with the new epoch count).
  public private(set) var configuration: RunConfiguration
  /// The network.
  public let model: any Layer
  /// The optimizer, with its moments.
  public let optimizer: any Optimizer
  /// The training split.
  public let training: Dataset
  /// The test split, evaluated after every epoch, or `nil`.
  public let test: Dataset?
  /// Full epochs done.
  public private(set) var epochsCompleted: Int
  /// What the run's first lines say: a resume, a re-planned schedule, why a resume is not exact.
  public private(set) var notes: [String] = []
  /// Pauses and stops from another thread.
  public let control = TrainingControl()
  /// Where to save a checkpoint after every epoch (atomically), or `nil`.
  public var checkpointURL: URL?
  /// Batches prepared ahead on a background thread (results do not depend on it).
  public var prefetchBatches = 2
  /// Sees the gradients of every step before the optimizer applies them (``Trainer/gradientInspector``).
  public var gradientInspector: ((_ parameters: [Parameter]) -> Void)?
  /// Data-parallel training over several processes, or `nil` for one (see ``DataParallel``).
  public var distributed: DataParallel?

  private var generator: SeededGenerator
  private var schedule: LearningRateSchedule?
  private var health: TrainingHealth

  /// A new run: the model built from the configuration's seed, then trained from epoch 1.
  /// - Throws: `RunError` when the configuration is unusable or does not fit the data.
  public init(configuration: RunConfiguration, training: Dataset, test: Dataset?) throws(RunError) {
    try Self.check(configuration, training: training, test: test)
    let (model, generator) = configuration.makeInitialModel()
    var configuration = configuration
    var batchNormNotes: [String] = []
    try Self.fitBatchesToBatchNorm(&configuration, model: model, trainingImages: training.count, notes: &batchNormNotes)
    self.model = model
    self.optimizer = configuration.optimizer.make()
    self.configuration = configuration
    self.training = training
    self.test = Self.nonEmpty(test)
    self.epochsCompleted = 0
    self.generator = generator
    self.schedule = configuration.plannedSchedule
    self.health = TrainingHealth(chancePatience: configuration.stopAtChance > 0 ? configuration.stopAtChance : nil)
    self.notes = batchNormNotes
    if let test, test.count == 0 { notes.append(Self.emptyTestNote) }
  }

  /// Continues the run saved in `checkpoint` up to `epochs` epochs in all (`nil`: as planned).
  ///
  /// - Parameters:
  ///   - threads: The thread count to run with, or `nil` for the saved one (which repeats the
  ///     saved run's rounding exactly).
  ///   - source: How to name the checkpoint in notes (its path).
  /// - Throws: `RunError` when the file holds no training state, the run is already complete,
  ///   or the data is not the data it was trained on.
  public init(
    resuming checkpoint: Checkpoint, epochs: Int? = nil, threads: Int? = nil, training: Dataset, test: Dataset?,
    source: String = "the checkpoint"
  ) throws(RunError) {
    guard let saved = checkpoint.run, let state = checkpoint.training else { throw .nothingToResume(source) }
    var configuration = saved
    let total = epochs ?? saved.epochs
    guard total > state.epochsCompleted else {
      throw .alreadyComplete(source, epochsCompleted: state.epochsCompleted, requested: total)
    }
    configuration.epochs = total
    if let threads { configuration.threads = threads }
    try Self.check(configuration, training: training, test: test)
    let model: any Layer
    let optimizer = configuration.optimizer.make()
    do {
      model = try checkpoint.makeModel()
      try state.restoreDropout(in: model)
      try state.restoreOptimizer(optimizer, for: model)
    } catch {
      throw .checkpoint(error)
    }
    var schedule = configuration.plannedSchedule
    guard schedule?.restore(state.scheduleState) ?? (state.scheduleState == nil) else {
      throw .checkpoint(
        .invalidMetadata(key: "state.schedule_state", value: "\(String(describing: state.scheduleState))",
          expected: "a state that fits the schedule \(configuration.schedule)"))
    }
    var health = TrainingHealth(chancePatience: configuration.stopAtChance > 0 ? configuration.stopAtChance : nil)
    health.epochsAtChance = state.epochsAtChance
    var batchNormNotes: [String] = []
    try Self.fitBatchesToBatchNorm(&configuration, model: model, trainingImages: training.count, notes: &batchNormNotes)

    self.configuration = configuration
    self.model = model
    self.optimizer = optimizer
    self.training = training
    self.test = Self.nonEmpty(test)
    self.epochsCompleted = state.epochsCompleted
    self.generator = state.generator
    self.schedule = schedule
    self.health = health
    self.notes =
      Self.resumeNotes(saved: saved, resumed: configuration, epochsCompleted: state.epochsCompleted, source: source)
      + batchNormNotes
    if let test, test.count == 0 { notes.append(Self.emptyTestNote) }
  }

  /// A test split with no images measures nothing: no accuracy (`null`) rather than 0 %.
  static func nonEmpty(_ test: Dataset?) -> Dataset? {
    guard let test, test.count > 0 else { return nil }
    return test
  }

  static let emptyTestNote = "The test split holds no images, so no test accuracy is measured."

  /// Trains the remaining epochs, reporting to `observers`, saving a checkpoint after each
  /// epoch when ``checkpointURL`` is set.
  /// - Throws: A `CheckpointError` when a save fails (training stops; the previous file stays whole).
  @discardableResult
  public func run(observers: [any TrainingObserver] = []) throws -> TrainingResult {
    if let distributed {
      var rankNotes: [String] = []
      try Self.fitBatchesToRanks(
        &configuration, model: model, trainingImages: training.count, ranks: distributed.context.size,
        synchronizedBatchNorm: distributed.synchronizeBatchNorm, notes: &rankNotes)
      notes += rankNotes.filter { !notes.contains($0) }
    }
    let trainer = Trainer(model: model, optimizer: optimizer, modelName: configuration.model.rawValue)
    trainer.schedule = schedule
    trainer.gradientClipNorm = configuration.optimizer.clipNorm
    trainer.health = health
    trainer.control = control
    trainer.gradientInspector = gradientInspector
    trainer.notes = notes + (distributed.map { [$0.summary] } ?? [])
    trainer.distributed = distributed
    trainer.datasetDescription = configuration.dataset.summary
    trainer.optimizerName = configuration.optimizer.kind.shortName
    trainer.optimizerSettings = configuration.optimizer.runDescription
    let loop = TrainingConfiguration(
      epochs: configuration.epochs, batchSize: configuration.batchSize, dropLastBatch: configuration.dropLastBatch,
      preparation: BatchPreparation(augmentation: configuration.augmentation, normalization: configuration.normalization),
      prefetchBatches: prefetchBatches, evaluationSample: configuration.evaluationSample)
    var generator = self.generator
    // The run's thread count for this run alone (the sums depend on how work is split).
    return try ComputeThreads.withCount(configuration.threads) {
      try trainer.fit(
        training, test: test, configuration: loop, using: &generator, seed: configuration.seed, observers: observers,
        startingEpoch: epochsCompleted + 1
      ) { epoch, generator in
        self.epochsCompleted = epoch
        self.generator = generator
        self.schedule = trainer.schedule
        self.health = trainer.health
        if let url = self.checkpointURL { try self.checkpoint().write(to: url) }
      }
    }
  }

  /// The model, the run and where it stands, as a checkpoint (a copy).
  public func checkpoint() -> Checkpoint {
    let state = TrainingState(
      epochsCompleted: epochsCompleted, optimizer: optimizer, model: model, generator: generator, schedule: schedule,
      epochsAtChance: health.epochsAtChance)
    return Checkpoint(model: model, run: configuration, training: state)
  }

  // MARK: - Checks

  /// Refuses a configuration that is unusable or does not describe `training` and `test`.
  static func check(_ configuration: RunConfiguration, training: Dataset, test: Dataset?) throws(RunError) {
    if !configuration.problems.isEmpty { throw .invalidConfiguration(configuration.problems) }
    for (split, data) in [("training", Optional(training)), ("test", test)] {
      guard let data else { continue }
      let shape = [data.channels, data.height, data.width]
      guard shape == configuration.inputShape else {
        throw .dataMismatch(
          "the \(split) images are \(shape.map(String.init).joined(separator: "×")), but the run's model takes "
            + configuration.inputShape.map(String.init).joined(separator: "×"))
      }
      guard data.classNames == configuration.classNames else {
        throw .dataMismatch(
          "the \(split) data has \(data.classCount) classes (\(Self.list(data.classNames))), but the run's model "
            + "predicts \(configuration.classNames.count) (\(Self.list(configuration.classNames)))")
      }
    }
    guard training.count > 0 else { throw .dataMismatch("the training split holds no images") }
    try checkMemory(configuration)
  }

  /// The bytes a training step keeps per parameter: its value, its gradient and up to two
  /// optimizer moments, as `Float32`.
  static let trainingBytesPerParameter = 16
  /// What a training step keeps per byte of one image's activations: the forward outputs, the
  /// pullbacks' saved inputs and the gradients flowing back.
  static let trainingActivationFactor = 3

  /// Refuses a run whose model (``trainingBytesPerParameter`` per parameter) and batch of
  /// activations (``trainingActivationFactor`` × batch × one image's) exceed `MemoryBudget`,
  /// first from the parameter count alone (without building the model), then with the summary.
  static func checkMemory(_ configuration: RunConfiguration) throws(RunError) {
    try checkMemory(
      model: configuration.model, inputShape: configuration.imageShape, classCount: configuration.classNames.count,
      batchSize: configuration.batchSize)
  }

  /// The memory check of a run of `model` on `inputShape` images, before any data is read:
  /// `cnn train --image-size` calls it with the smallest run the options allow, so an image
  /// size that cannot train is refused before every image is resized to it.
  /// - Throws: `RunError.memoryBudget`, or `.modelDoesNotFit` for an image too small.
  public static func checkMemory(model: ModelName, inputShape shape: Shape, classCount classes: Int, batchSize batch: Int)
    throws(RunError)
  {
    try checkPlan(model: model, inputShape: shape, classCount: classes, batchSize: batch, source: "the run") { plan, source in
      try MemoryBudget.check(
        MemoryBudget.bytes([plan.parameterCount, trainingBytesPerParameter]),
        for: "training \(model.rawValue)'s \(plan.parameterCount.grouped) parameters (weights, gradients, optimizer moments)",
        from: source)
      try MemoryBudget.check(
        MemoryBudget.sum([
          MemoryBudget.bytes([plan.parameterCount, trainingBytesPerParameter]),
          MemoryBudget.bytes([batch, plan.activationBytes, trainingActivationFactor]),
        ]),
        for: "a training step of \(model.rawValue) (\(MemoryBudget.format(plan.activationBytes)) of activations per image)",
        from: source)
    }
  }

  /// The memory check of inference with `model` on batches of `batch` images: the weights
  /// (`Float32`) and one batch's activations.
  /// - Throws: `RunError.memoryBudget`, or `.modelDoesNotFit` for an image too small.
  public static func checkInferenceMemory(
    model: ModelName, inputShape shape: Shape, classCount classes: Int, batchSize batch: Int
  ) throws(RunError) {
    try checkPlan(model: model, inputShape: shape, classCount: classes, batchSize: batch, source: "inference") {
      plan, source in
      try MemoryBudget.check(
        MemoryBudget.sum([
          MemoryBudget.bytes([plan.parameterCount, 4]), MemoryBudget.bytes([batch, plan.activationBytes]),
        ]), for: "inference of \(model.rawValue)", from: source)
    }
  }

  /// Plans `model` for `shape` and `classes` and runs `check` on the plan, turning a plan or
  /// budget failure into `RunError`.
  private static func checkPlan(
    model: ModelName, inputShape shape: Shape, classCount classes: Int, batchSize batch: Int, source planSource: String,
    _ check: (_ plan: (parameterCount: Int, activationBytes: Int), _ source: String) throws -> Void
  ) throws(RunError) {
    let source = "\(shape.dimensions.map(String.init).joined(separator: "x")) images, \(classes) classes, batches of \(batch)"
    do {
      let plan = try model.checkedPlan(inputShape: shape, classCount: classes, source: planSource)
      try check(plan, source)
    } catch let error as ModelSummaryError {
      if let budget = error.budget { throw .memoryBudget(budget) }
      throw .modelDoesNotFit(model: model.rawValue, shape: shape.dimensions, reason: error.description)
    } catch let error as MemoryBudgetError {
      throw .memoryBudget(error)
    } catch {
      throw .modelDoesNotFit(model: model.rawValue, shape: shape.dimensions, reason: "\(error)")
    }
  }

  private static func list(_ names: [String]) -> String {
    names.count <= 12 ? names.joined(separator: ", ") : names.prefix(12).joined(separator: ", ") + ", …"
  }

  /// What a resume says before it starts.
  static func resumeNotes(saved: RunConfiguration, resumed: RunConfiguration, epochsCompleted: Int, source: String)
    -> [String]
  {
    var notes = ["Resuming \(source) after epoch \(epochsCompleted), up to epoch \(resumed.epochs)."]
    if resumed.epochs != saved.epochs {
      let change = resumed.epochs > saved.epochs ? "extended" : "shortened"
      if resumed.schedule.dependsOnRunLength {
        notes.append(
          "The run is \(change) from \(saved.epochs) to \(resumed.epochs) epochs: its \(resumed.schedule) schedule is "
            + "re-planned to end at epoch \(resumed.epochs). Epochs 1–\(epochsCompleted) followed a shorter curve, "
            + "so this is not bit-identical to a run planned for \(resumed.epochs) epochs from the start.")
      } else {
        notes.append(
          "The run is \(change) from \(saved.epochs) to \(resumed.epochs) epochs; its schedule does not depend on "
            + "the run's length, so the result is the same as a run planned for \(resumed.epochs) epochs.")
      }
    }
    if resumed.threads != saved.threads {
      notes.append(
        "Running on \(resumed.threads) threads where the run was saved on \(saved.threads): sums are rounded in "
          + "another order, so the weights will differ slightly from an uninterrupted run.")
    }
    return notes
  }
}
