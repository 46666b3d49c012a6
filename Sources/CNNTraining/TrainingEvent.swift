/// What happened during training: the values that the progress bar, the JSON-lines log
/// and any other observer consume. Only values cross from the trainer to observers.
public enum TrainingEvent: Sendable, Equatable {
  /// Training is about to start.
  case started(TrainingStart)
  /// One optimizer step finished.
  case batch(BatchProgress)
  /// One epoch finished and was evaluated.
  case epoch(EpochSummary)
  /// Training finished.
  case finished(TrainingResult)
  /// The run was steered from outside (``TrainingControl``): paused, resumed, or given a new
  /// learning rate, reported by the training thread when it took effect.
  case control(ControlChange)
}

/// A change made to a running run through its ``TrainingControl``, as the trainer applied it.
public struct ControlChange: Sendable, Equatable {
  /// What changed.
  public enum Action: String, Sendable, Equatable, Codable {
    /// The run holds before its next step.
    case paused
    /// The run goes on.
    case resumed
    /// The learning rate was set (``ControlChange/learningRate``) in place of the schedule.
    case learningRate = "learning_rate"
  }

  public var action: Action
  /// The epoch in progress.
  public var epoch: Int
  /// Steps done in this epoch when it happened.
  public var batch: Int
  /// The learning rate from now on (for `.learningRate`).
  public var learningRate: Float?
  /// The learning rate it replaced (for `.learningRate`).
  public var previousLearningRate: Float?

  public init(action: Action, epoch: Int, batch: Int, learningRate: Float? = nil, previousLearningRate: Float? = nil) {
    self.action = action
    self.epoch = epoch
    self.batch = batch
    self.learningRate = learningRate
    self.previousLearningRate = previousLearningRate
  }
}

/// The set-up of a run, reported once before the first step.
public struct TrainingStart: Sendable, Equatable {
  public var model: String
  public var parameterCount: Int
  public var trainingSamples: Int
  public var testSamples: Int
  public var epochs: Int
  public var batchSize: Int
  public var batchesPerEpoch: Int
  public var optimizer: String
  public var learningRate: Float
  public var seed: UInt64?
  /// The training augmentation, as `--augment` spells it (`crop=2`), or `none`.
  public var augmentation: String = "none"
  /// The learning-rate schedule, as `--schedule` spells it (`cosine=12`), or `constant`.
  public var schedule: String = "constant"
  /// Lines the run wants printed before anything else, e.g. "resumed at epoch 3 of 5; cosine
  /// schedule re-planned to end at epoch 5". Empty for most runs.
  public var notes: [String] = []
  /// The dataset trained on, as `--dataset` names it (`mnist`, `cifar10`), if known.
  public var dataset: String? = nil
  /// The optimizer with every setting, as configured: `SGD with Nesterov momentum 0.9 (lr 0.01,
  /// weight decay 0.0005, no clipping)`, or `nil` when only ``optimizer`` is known.
  public var optimizerSettings: String? = nil
  /// How images are normalised: `none`, or `mean 0.1307 std 0.3081` per channel; `nil` if unknown.
  public var normalization: String? = nil
  /// The number of test (and training) images evaluated after each epoch when the run
  /// evaluates a fixed sample (`cnn train --eval-sample`), or `nil` for the whole test set.
  public var evaluationSample: Int? = nil
}

/// Progress within an epoch, after a step.
public struct BatchProgress: Sendable, Equatable {
  public var epoch: Int
  /// 1-based index of the finished batch.
  public var batch: Int
  public var batchesPerEpoch: Int
  /// The loss of this batch.
  public var loss: Float
  /// Mean loss of this epoch's batches so far.
  public var runningLoss: Float
  /// Training images per second in this epoch so far.
  public var imagesPerSecond: Double
  /// Seconds since the epoch started.
  public var elapsed: Double
}

/// The measurements of one finished epoch.
public struct EpochSummary: Sendable, Equatable {
  public var epoch: Int
  /// Mean of the epoch's batch losses.
  public var trainLoss: Float
  /// Fraction of training samples classified correctly during the epoch (while learning).
  public var trainAccuracy: Float
  /// Mean loss over the whole test set, if one was given.
  public var testLoss: Float?
  /// Fraction of the whole test set classified correctly, if one was given.
  public var testAccuracy: Float?
  /// Seconds spent training this epoch (evaluation excluded).
  public var seconds: Double
  /// Seconds spent evaluating.
  public var evaluationSeconds: Double
  /// Training images per second this epoch.
  public var imagesPerSecond: Double
  /// The learning rate in effect at the epoch's last step (0 in logs written before it was
  /// recorded).
  public var learningRate: Float = 0
  /// With a fixed evaluation sample (`--eval-sample N`): the accuracy on the first N
  /// training images, measured after the epoch in inference mode, as the seeds'
  /// `train_acc_list` holds it; `nil` otherwise.
  public var sampleTrainAccuracy: Float? = nil
  /// The test images that ``testAccuracy`` and ``testLoss`` were measured on (the whole test
  /// set, or the fixed sample), or `nil` when not recorded.
  public var testImages: Int? = nil
}

/// The outcome of `Trainer.fit`.
public struct TrainingResult: Sendable, Equatable {
  public var epochs: [EpochSummary]
  /// Seconds spent in training steps, all epochs.
  public var trainingSeconds: Double
  /// Seconds from start to end, evaluation included.
  public var totalSeconds: Double
  /// Why training stopped early (a health check), or `nil` when it ran every epoch.
  public var stop: TrainingStop? = nil
  /// The last epoch's test accuracy, if evaluated.
  public var finalTestAccuracy: Float? { epochs.last?.testAccuracy }
  /// The seeds' `train_acc_list`: per epoch, the accuracy on the fixed training sample when
  /// one was evaluated, else the accuracy measured while the epoch trained.
  public var trainAccuracies: [Float] { epochs.map { $0.sampleTrainAccuracy ?? $0.trainAccuracy } }
  /// The seeds' `test_acc_list`: per epoch, the test accuracy (of the sample or the whole
  /// test set); empty without a test set.
  public var testAccuracies: [Float] { epochs.compactMap(\.testAccuracy) }
}

/// Receives training events, in order, on the training thread.
public protocol TrainingObserver: AnyObject {
  func receive(_ event: TrainingEvent)
}
