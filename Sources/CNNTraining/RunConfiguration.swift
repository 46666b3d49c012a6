import CNNData
import CNNKernels
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor

/// Everything that defines a training run, typed: the network, the data and how it is
/// prepared, the optimizer with all its settings, the schedule, and the loop's numbers.
///
/// A run is this value plus a seed's worth of randomness: the same configuration on the same
/// number of threads and the same CPU kernels trains the same weights, bit for bit. Every
/// checkpoint stores it as one JSON entry (`run`) of its safetensors metadata, which is how
/// `cnn evaluate`, `cnn predict`, `cnn visualize` and a resumed `cnn train` know the model,
/// its input shape, its class names and its normalization without being told again.
///
///     var run = RunConfiguration.recipe(for: .lenet5, dataset: .mnistSample, training: mnist.training)
///     run.epochs = 5
///     let session = try TrainingSession(configuration: run, training: mnist.training, test: mnist.test)
///     try session.run(observers: [ProgressBar()])
public struct RunConfiguration: Codable, Sendable, Equatable {
  /// The network.
  public var model: ModelName
  /// Where the images come from.
  public var dataset: DatasetSpecification
  /// One image's shape `[C, H, W]`, which the network is built for.
  public var inputShape: [Int]
  /// A name for each class, by label; the network has one output per class.
  public var classNames: [String]
  /// Per-channel standardisation after scaling pixels to `[0, 1]`, or `nil` for none. Applied
  /// at training and at every later use of the model (evaluation, prediction, pictures).
  public var normalization: Normalization?
  /// Random changes to training images.
  public var augmentation: AugmentationPipeline
  /// How the learning rate moves over the run.
  public var schedule: ScheduleSpecification
  /// The optimizer, its learning rate, momentum, weight decay and clipping.
  public var optimizer: OptimizerSettings
  /// How weights are drawn, or `nil` for the model's own default.
  public var initialization: WeightInitialization?
  /// Passes over the training set in the whole run.
  public var epochs: Int
  /// Images per optimizer step.
  public var batchSize: Int
  /// Whether to leave out each epoch's last, smaller batch (PyTorch's `drop_last`).
  public var dropLastBatch: Bool
  /// The seed of the initial weights, the shuffling and the augmentation.
  public var seed: UInt64
  /// Worker threads for the kernels. The per-thread gradient sums fix the rounding, so the
  /// same count repeats a run exactly.
  public var threads: Int
  /// Stop when test accuracy stays at chance for this many epochs in a row (0: never).
  public var stopAtChance: Int
  /// Evaluate each epoch on the first this many test images, and the first this many
  /// training images, as the seeds' trainer does (`evaluate_sample_num_per_epoch=1000`), or
  /// `nil` for the whole test set. Left out of the checkpoint's JSON when `nil`.
  public var evaluationSample: Int?

  /// Creates a configuration; every value is given (see ``recipe(for:dataset:training:)``
  /// for one filled from the model's recipe).
  public init(
    model: ModelName, dataset: DatasetSpecification, inputShape: [Int], classNames: [String],
    normalization: Normalization? = nil, augmentation: AugmentationPipeline = .none,
    schedule: ScheduleSpecification = .constant, optimizer: OptimizerSettings,
    initialization: WeightInitialization? = nil, epochs: Int, batchSize: Int, dropLastBatch: Bool = false,
    seed: UInt64 = 42, threads: Int = 1, stopAtChance: Int = 3, evaluationSample: Int? = nil
  ) {
    self.evaluationSample = evaluationSample
    self.model = model
    self.dataset = dataset
    self.inputShape = inputShape
    self.classNames = classNames
    self.normalization = normalization
    self.augmentation = augmentation
    self.schedule = schedule
    self.optimizer = optimizer
    self.initialization = initialization
    self.epochs = epochs
    self.batchSize = batchSize
    self.dropLastBatch = dropLastBatch
    self.seed = seed
    self.threads = threads
    self.stopAtChance = stopAtChance
  }

  /// The run `cnn train --model NAME` makes when given nothing else: the model's
  /// ``TrainingRecipe`` for this many training images, the data's shape and class names,
  /// seed 42 and the machine's thread count.
  public static func recipe(for model: ModelName, dataset: DatasetSpecification, training: Dataset)
    -> RunConfiguration
  {
    let recipe = model.defaultRecipe(trainingImages: training.count)
    return RunConfiguration(
      model: model, dataset: dataset, inputShape: [training.channels, training.height, training.width],
      classNames: training.classNames, augmentation: recipe.augmentation, schedule: recipe.schedule,
      optimizer: OptimizerSettings(kind: recipe.optimizer, learningRate: recipe.learningRate),
      initialization: recipe.initialization, epochs: recipe.epochs, batchSize: recipe.batchSize,
      threads: ComputeThreads.count)
  }

  /// The network as this run starts it, before any training step: built from the run's
  /// seed, image shape, class count and initialization. The same weights every time, so a
  /// picture can show a trained checkpoint's filters beside their starting point.
  /// - Returns: The model and the generator as it stands after drawing the weights (the
  ///   session shuffles with it next).
  public func makeInitialModel() -> (model: any Layer, generator: SeededGenerator) {
    var generator = SeededGenerator(seed: seed)
    let model = self.model.make(
      inputShape: imageShape, classCount: classNames.count, initialization: initialization, using: &generator)
    return (model, generator)
  }

  /// The image shape as a `Shape`.
  public var imageShape: Shape { Shape(inputShape) }

  /// The schedule planned for this run's length from the optimizer's learning rate, or `nil`
  /// for a constant rate.
  public var plannedSchedule: LearningRateSchedule? {
    schedule.isConstant ? nil : schedule.planned(baseLearningRate: optimizer.learningRate, epochs: epochs)
  }
}

/// The largest values a run accepts: beyond them a number is a typo or a lie in a file, and
/// acting on it would exhaust memory or overflow.
public enum RunLimits {
  public static let epochs = 1...1_000_000
  public static let batchSize = 1...65_536
  public static let threads = 1...1_024
  public static let classes = 1...100_000
  public static let imageSide = 1...8_192
  public static let channels = 1...4
  public static let stopAtChance = 0...1_000_000
  public static let evaluationSample = 1...100_000_000
}

extension RunConfiguration {
  /// Every problem that makes this configuration unusable, each naming the setting, its
  /// value and the accepted range; empty when it is sound.
  public var problems: [String] {
    var problems: [String] = []
    func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) {
      if !range.contains(value) { problems.append("\(name) must be in \(range.lowerBound)…\(range.upperBound), got \(value)") }
    }
    check("epochs", epochs, RunLimits.epochs)
    check("batch size", batchSize, RunLimits.batchSize)
    check("threads", threads, RunLimits.threads)
    check("stop at chance", stopAtChance, RunLimits.stopAtChance)
    if let evaluationSample { check("evaluation sample", evaluationSample, RunLimits.evaluationSample) }
    check("class count", classNames.count, RunLimits.classes)
    if inputShape.count != 3 {
      problems.append("the input shape must be [C, H, W], got \(inputShape)")
    } else {
      check("image channels", inputShape[0], RunLimits.channels)
      check("image height", inputShape[1], RunLimits.imageSide)
      check("image width", inputShape[2], RunLimits.imageSide)
      if let normalization, normalization.channels != inputShape[0] {
        problems.append("the normalization has \(normalization.channels) channels, the images \(inputShape[0])")
      }
    }
    if let channels = dataset.channels, channels != 1 && channels != 3 {
      problems.append("the dataset's channels must be 1 or 3, got \(channels)")
    }
    if let size = dataset.imageSize, !RunLimits.imageSide.contains(size.width) || !RunLimits.imageSide.contains(size.height) {
      problems.append("the dataset's image size must be in 1…\(RunLimits.imageSide.upperBound) per side, got \(size)")
    }
    if let problem = optimizer.problem { problems.append(problem) }
    if case .cosine(let span?, _) = schedule.decay, !RunLimits.epochs.contains(span) {
      problems.append("the cosine schedule's length must be in 1…\(RunLimits.epochs.upperBound), got \(span)")
    }
    return problems
  }
}
