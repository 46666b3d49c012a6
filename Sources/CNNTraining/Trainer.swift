import CNNData
import CNNKernels
import CNNLayers
import CNNOptimizers
import CNNTensor

/// How `Trainer.fit` runs.
public struct TrainingConfiguration: Sendable, Equatable {
  public var epochs: Int
  public var batchSize: Int
  /// Whether to skip the last, smaller batch of each epoch (PyTorch's `drop_last`).
  public var dropLastBatch: Bool
  /// Batch size used for evaluation (it does not change the result, only speed and memory).
  public var evaluationBatchSize: Int
  /// How training batches are prepared: augmentation and normalization (evaluation uses the
  /// normalization only). `.plain` scales to `[0, 1]`.
  public var preparation: BatchPreparation
  /// Training batches prepared ahead on a background thread (0: on the training thread). The
  /// batches are the same either way.
  public var prefetchBatches: Int
  /// Evaluate after each epoch on the first this many test images, and measure the accuracy
  /// on the first this many training images too (the seeds' `evaluate_sample_num_per_epoch`),
  /// or `nil` to evaluate the whole test set.
  public var evaluationSample: Int?

  public init(
    epochs: Int = 20, batchSize: Int = 100, dropLastBatch: Bool = false, evaluationBatchSize: Int = 100,
    preparation: BatchPreparation = .plain, prefetchBatches: Int = 2, evaluationSample: Int? = nil
  ) {
    self.evaluationSample = evaluationSample
    self.epochs = epochs
    self.batchSize = batchSize
    self.dropLastBatch = dropLastBatch
    self.evaluationBatchSize = evaluationBatchSize
    self.preparation = preparation
    self.prefetchBatches = prefetchBatches
  }
}

/// The mini-batch training loop for classifiers with a softmax cross-entropy loss.
///
/// Each epoch shuffles the training set with the injected generator (and, when augmenting,
/// then draws one number from it that seeds every batch's augmentation), steps the optimizer
/// once per batch, then evaluates on the whole test set (or, with
/// `TrainingConfiguration.evaluationSample`, on the first N test and training images). The explicit loop it runs is:
/// `forward → softmaxCrossEntropy → pullback → clip → optimizer.step`.
///
/// Batches are prepared on a background thread (`TrainingConfiguration.prefetchBatches`). A
/// `schedule` sets the learning rate before every step; `health` stops the run on a NaN or
/// infinite loss, or accuracy stuck at chance, and `TrainingResult.stop` says why.
public final class Trainer {
  public let model: any Layer
  public let optimizer: any Optimizer
  /// A name for reports (`simple-convnet`).
  public var modelName: String
  /// The learning rate by epoch and step, or `nil` to leave `optimizer.learningRate` alone.
  /// `fit` updates its state (reduce-on-plateau) after each epoch's evaluation, before
  /// `endOfEpoch`, so a checkpoint can save it.
  public var schedule: LearningRateSchedule?
  /// The largest global L2 norm of the gradients; larger ones are scaled down before each step.
  public var gradientClipNorm: Float?
  /// The checks that stop a failing run; its state is updated after each epoch.
  public var health = TrainingHealth()
  /// Pauses and stops requested from another thread, honoured between steps.
  public var control: TrainingControl?
  /// Lines the `started` event carries (`TrainingStart.notes`).
  public var notes: [String] = []
  /// A description of the data for the `started` event.
  public var datasetDescription: String?
  /// The optimizer's short name for the `started` event (`Nesterov`, `AdamW`); by default the
  /// optimizer's type name.
  public var optimizerName: String?
  /// Every setting of the optimizer, for the `started` event
  /// (`OptimizerSettings.runDescription`), or `nil`.
  public var optimizerSettings: String?
  /// Called in each step after the gradients are computed (and clipped) and before the
  /// optimizer applies them, on the training thread: a dashboard reads gradient statistics here.
  /// It must not change the parameters.
  public var gradientInspector: ((_ parameters: [Parameter]) -> Void)?
  /// A learning rate set through ``control`` (`requestLearningRate`), which replaces the
  /// schedule from the step it was applied on.
  public private(set) var learningRateOverride: Float?
  /// Data-parallel training over several processes (each steps on its share of every batch and
  /// the gradients are averaged), or `nil` for one process.
  public var distributed: DataParallel?

  /// Also asks the allocator to reuse large blocks (`MemoryTuning.reuseLargeAllocations()`),
  /// which saves a page fault per 4 KB of every tensor of every step.
  public init(model: any Layer, optimizer: any Optimizer, modelName: String = "model") {
    MemoryTuning.reuseLargeAllocations()
    self.model = model
    self.optimizer = optimizer
    self.modelName = modelName
    self.parameters = model.parameters
  }

  /// `model.parameters`, walked once: a model's layer tree does not change while it trains.
  private let parameters: [Parameter]

  /// One optimizer step on one batch; returns the batch loss and how many were classified right.
  public func step(_ batch: Batch) -> (loss: Float, correct: Int) {
    step(batch, globalCount: batch.labels.count)
  }

  /// One optimizer step on `batch`, this process's share of a batch of `globalCount` images
  /// over all ranks (with ``distributed``); returns the whole batch's loss and correct count.
  func step(_ batch: Batch, globalCount: Int) -> (loss: Float, correct: Int) {
    var (loss, correct): (Float, Int) = (0, 0)
    distributed?.beginStep(localCount: batch.labels.count, globalCount: globalCount)
    if !batch.labels.isEmpty {
      let (logits, pullback) = model.forward(batch.images, needsInputGradient: false)
      let dLogits: Tensor
      (loss, dLogits) = softmaxCrossEntropy(logits: logits, labels: batch.labels)
      if let distributed { distributed.runBackward { _ = pullback(dLogits) } } else { _ = pullback(dLogits) }
      correct = zip(logits.argmaxRows(), batch.labels).filter { $0 == $1 }.count
    }
    if let distributed {
      let local = batch.labels.count
      distributed.averageGradients(parameters, localCount: local, globalCount: globalCount)
      (loss, correct) = distributed.sumStep(loss: loss, correct: correct, localCount: local, globalCount: globalCount)
    }
    if let gradientClipNorm { clipGradientNorm(parameters, maxNorm: gradientClipNorm) }
    gradientInspector?(parameters)
    optimizer.step(parameters)
    return (loss, correct)
  }

  /// Trains for `configuration.epochs` epochs and reports every step and epoch to `observers`.
  @discardableResult
  public func fit<Generator: RandomNumberGenerator>(
    _ training: Dataset, test: Dataset?, configuration: TrainingConfiguration,
    using generator: inout Generator, seed: UInt64? = nil, observers: [any TrainingObserver] = []
  ) -> TrainingResult {
    fit(
      training, test: test, configuration: configuration, using: &generator, seed: seed, observers: observers,
      startingEpoch: 1, endOfEpoch: { _, _ in })
  }

  /// Trains until `configuration.epochs` epochs are done and reports every step and epoch to
  /// `observers`.
  ///
  /// - Parameters:
  ///   - startingEpoch: The first epoch to run (1 for a new run; `epochsCompleted + 1` when
  ///     resuming with the saved generator, which makes the run bit-identical to one that never
  ///     stopped).
  ///   - endOfEpoch: Called after each epoch's evaluation with the epoch and the generator as
  ///     it stands before the next epoch's shuffle (e.g. to save a checkpoint). Its error stops
  ///     training and is rethrown.
  @discardableResult
  public func fit<Generator: RandomNumberGenerator>(
    _ training: Dataset, test: Dataset?, configuration: TrainingConfiguration,
    using generator: inout Generator, seed: UInt64? = nil,
    observers: [any TrainingObserver] = [], startingEpoch: Int = 1,
    endOfEpoch: (_ epoch: Int, _ generator: Generator) throws -> Void
  ) rethrows -> TrainingResult {
    let clock = ContinuousClock()
    let runStart = clock.now
    let batchesPerEpoch = configuration.dropLastBatch
      ? training.count / configuration.batchSize
      : (training.count + configuration.batchSize - 1) / configuration.batchSize
    let start = TrainingStart(
      model: modelName, parameterCount: model.parameterCount, trainingSamples: training.count,
      testSamples: test?.count ?? 0, epochs: configuration.epochs, batchSize: configuration.batchSize,
      batchesPerEpoch: batchesPerEpoch, optimizer: optimizerName ?? "\(type(of: optimizer))",
      learningRate: schedule?.learningRate(epoch: max(1, startingEpoch), batch: 0, batchesPerEpoch: batchesPerEpoch)
        ?? optimizer.learningRate,
      seed: seed,
      augmentation: configuration.preparation.augmentation.isEmpty
        ? "none" : configuration.preparation.augmentation.description,
      schedule: schedule?.description ?? "constant", notes: notes, dataset: datasetDescription,
      optimizerSettings: optimizerSettings,
      normalization: configuration.preparation.normalization.map(Self.describe) ?? "none",
      evaluationSample: configuration.evaluationSample)
    // The seeds' fixed sample: the first N images of each split, the same every epoch.
    let evaluated = configuration.evaluationSample.flatMap { n in test.map { $0.count > n ? $0.prefix(n) : $0 } } ?? test
    let trainingSample = configuration.evaluationSample.map { training.count > $0 ? training.prefix($0) : training }
    observers.forEach { $0.receive(.started(start)) }
    var summaries: [EpochSummary] = []
    var trainingSeconds = 0.0
    var stop: TrainingStop?
    let chance = TrainingHealth.chanceAccuracy(of: (test ?? training).labels)
    let preparation = configuration.preparation
    if let distributed {
      distributed.check(
        batchSize: configuration.batchSize, samples: training.count, dropLast: configuration.dropLastBatch)
      distributed.broadcastState(of: model)
    }
    epochs: for epoch in max(1, startingEpoch)...max(1, startingEpoch, configuration.epochs)
    where epoch <= configuration.epochs {
      let epochStart = clock.now
      var lossSum: Double = 0
      var correct = 0
      var seen = 0
      var batchIndex = 0
      let global = training.batches(
        size: configuration.batchSize, shuffledUsing: &generator, dropLast: configuration.dropLastBatch)
      let batches = distributed?.shard(global) ?? global
      let epochSeed = preparation.augmentation.isEmpty ? 0 : generator.next()
      let loader = BatchLoader(
        batches, preparation: preparation, epochSeed: distributed?.augmentationSeed(epochSeed) ?? epochSeed,
        prefetch: configuration.prefetchBatches)
      for batch in loader {
        if let control {
          if control.isPaused {
            let change = ControlChange(action: .paused, epoch: epoch, batch: batchIndex)
            observers.forEach { $0.receive(.control(change)) }
            control.waitWhilePaused()
            let resumed = ControlChange(action: .resumed, epoch: epoch, batch: batchIndex)
            observers.forEach { $0.receive(.control(resumed)) }
          }
          if control.stopRequest == .now {
            stop = .requested(epoch: epoch, batch: batchIndex)
            break epochs
          }
          if let rate = control.takeLearningRateRequest() {
            let change = ControlChange(
              action: .learningRate, epoch: epoch, batch: batchIndex, learningRate: rate,
              previousLearningRate: optimizer.learningRate)
            learningRateOverride = rate
            observers.forEach { $0.receive(.control(change)) }
          }
        }
        if let learningRateOverride {
          optimizer.learningRate = learningRateOverride
        } else if let schedule {
          optimizer.learningRate = schedule.learningRate(
            epoch: epoch, batch: batchIndex, batchesPerEpoch: batchesPerEpoch)
        }
        let globalCount = batches.globalCount(at: batchIndex)
        let (loss, right) = step(batch, globalCount: globalCount)
        batchIndex += 1
        if let problem = health.check(loss: loss, epoch: epoch, batch: batchIndex) {
          stop = problem
          break epochs
        }
        lossSum += Double(loss)
        correct += right
        seen += globalCount
        let elapsed = (clock.now - epochStart).seconds
        let progress = BatchProgress(
          epoch: epoch, batch: batchIndex, batchesPerEpoch: batchesPerEpoch, loss: loss,
          runningLoss: Float(lossSum / Double(batchIndex)), imagesPerSecond: Double(seen) / max(elapsed, 1e-9),
          elapsed: elapsed)
        observers.forEach { $0.receive(.batch(progress)) }
      }
      let seconds = (clock.now - epochStart).seconds
      trainingSeconds += seconds
      let evaluationStart = clock.now
      let evaluation = evaluated.map {
        distributed?.evaluate(
          model, on: $0, batchSize: configuration.evaluationBatchSize, normalization: preparation.normalization)
          ?? model.evaluate(
            on: $0, batchSize: configuration.evaluationBatchSize, normalization: preparation.normalization)
      }
      let sampleTrainAccuracy = trainingSample.map {
        (distributed?.evaluate(
          model, on: $0, batchSize: configuration.evaluationBatchSize, normalization: preparation.normalization)
          ?? model.evaluate(on: $0, batchSize: configuration.evaluationBatchSize, normalization: preparation.normalization))
          .accuracy
      }
      let summary = EpochSummary(
        epoch: epoch, trainLoss: batchIndex > 0 ? Float(lossSum / Double(batchIndex)) : 0,
        trainAccuracy: seen > 0 ? Float(correct) / Float(seen) : 0, testLoss: evaluation?.loss,
        testAccuracy: evaluation?.accuracy, seconds: seconds,
        evaluationSeconds: (clock.now - evaluationStart).seconds, imagesPerSecond: Double(seen) / max(seconds, 1e-9),
        learningRate: optimizer.learningRate, sampleTrainAccuracy: sampleTrainAccuracy, testImages: evaluated?.count)
      summaries.append(summary)
      observers.forEach { $0.receive(.epoch(summary)) }
      schedule?.endOfEpoch(loss: evaluation?.loss ?? summary.trainLoss)
      stop = health.check(summary, chance: chance)
      if case .nonFiniteLoss = stop { break }  // do not save diverged weights
      try endOfEpoch(epoch, generator)
      if stop != nil { break }
      if control?.stopRequest != nil && epoch < configuration.epochs {
        stop = .requested(epoch: epoch, batch: nil)
        break
      }
    }
    let result = TrainingResult(
      epochs: summaries, trainingSeconds: trainingSeconds, totalSeconds: (clock.now - runStart).seconds, stop: stop)
    observers.forEach { $0.receive(.finished(result)) }
    return result
  }
}

extension Trainer {
  /// `per-channel mean 0.1309, std 0.3080` (four decimals; the checkpoint keeps every digit).
  static func describe(_ normalization: Normalization) -> String {
    "per-channel mean " + normalization.mean.map { $0.formatted(4) }.joined(separator: "/") + ", std "
      + normalization.standardDeviation.map { $0.formatted(4) }.joined(separator: "/")
  }
}

extension Duration {
  /// The duration in seconds, as a `Double`.
  public var seconds: Double {
    let (whole, fraction) = components
    return Double(whole) + Double(fraction) * 1e-18
  }
}
