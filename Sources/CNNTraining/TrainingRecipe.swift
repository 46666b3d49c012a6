import CNNData
import CNNLayers
import CNNModels
import CNNOptimizers

/// How a network is trained when nothing else is said: `cnn train --model NAME` takes every
/// option it is not given from the model's recipe.
///
/// The recipes of the small networks were measured on the bundled MNIST sample (4,000
/// training and 1,000 test images); README.md gives the commands and the figures. Each
/// differs from the seeds' recipe only where the seeds' one falls short on the sample:
/// He initialisation instead of σ = 0.01, random 2-pixel shifts (`crop=2`) and a cosine
/// learning-rate decay, which together reach a higher accuracy in fewer epochs.
public struct TrainingRecipe: Sendable, Equatable {
  /// Passes over the training set.
  public var epochs: Int
  /// Images per optimizer step.
  public var batchSize: Int
  /// The optimizer.
  public var optimizer: OptimizerKind
  /// The learning rate; `nil` for the optimizer's usual one.
  public var learningRate: Float?
  /// How weights are drawn; `nil` for the model's own default.
  public var initialization: WeightInitialization?
  /// The augmentation of training images.
  public var augmentation: AugmentationPipeline
  /// The learning-rate schedule.
  public var schedule: ScheduleSpecification
  /// The augmentation on a full-size training set (``ModelName/fullSizeTrainingSet`` images or
  /// more), when it differs from `augmentation`; see ``ModelName/defaultRecipe(trainingImages:)``.
  public var fullSizeAugmentation: AugmentationPipeline?

  public init(
    epochs: Int, batchSize: Int, optimizer: OptimizerKind, learningRate: Float? = nil,
    initialization: WeightInitialization? = nil, augmentation: AugmentationPipeline = .none,
    schedule: ScheduleSpecification = .constant, fullSizeAugmentation: AugmentationPipeline? = nil
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.optimizer = optimizer
    self.learningRate = learningRate
    self.initialization = initialization
    self.augmentation = augmentation
    self.schedule = schedule
    self.fullSizeAugmentation = fullSizeAugmentation
  }

  /// The seeds' chapter 004 recipe: Adam 0.001, batches of 100, 20 epochs, nothing else.
  public static let seeds = TrainingRecipe(epochs: 20, batchSize: 100, optimizer: .adam)
}

extension ModelName {
  /// The training-set size from which ``defaultRecipe(trainingImages:)`` takes a recipe's
  /// ``TrainingRecipe/fullSizeAugmentation``.
  public static let fullSizeTrainingSet = 20_000

  /// The recipe `cnn train --model NAME` follows for every option it is not given, for a
  /// training set of `trainingImages` images.
  ///
  /// The digit networks' random shifts stretch the 4,000-image MNIST sample. On a full-size
  /// set (``fullSizeTrainingSet`` images or more) they do not overfit within their epochs and
  /// the shifts cost accuracy, so their recipes leave them out there. Measured on
  /// Fashion-MNIST (60,000 images), the recipes otherwise unchanged: `mnist-cnn` 91.6 % with
  /// `crop=2`, 92.7 % without; SimpleConvNet 90.2 % with, 91.4 % without.
  public func defaultRecipe(trainingImages: Int) -> TrainingRecipe {
    var recipe = defaultRecipe
    if trainingImages >= Self.fullSizeTrainingSet, let augmentation = recipe.fullSizeAugmentation {
      recipe.augmentation = augmentation
    }
    return recipe
  }

  /// The recipe `cnn train --model NAME` follows on the bundled MNIST sample.
  public var defaultRecipe: TrainingRecipe {
    switch self {
    case .simpleConvNet:
      // The seeds' 20 epochs with σ = 0.01 reach 95.3 % on the sample; this reaches 97 % in 12.
      return TrainingRecipe(
        epochs: 12, batchSize: 100, optimizer: .adam, initialization: .he, augmentation: .shifts(2),
        schedule: .wholeRunCosine, fullSizeAugmentation: AugmentationPipeline.none)
    case .mnistCNN:
      return TrainingRecipe(
        epochs: 8, batchSize: 100, optimizer: .adam, augmentation: .shifts(2), schedule: .wholeRunCosine,
        fullSizeAugmentation: AugmentationPipeline.none)
    case .lenet5, .lenet5RBF:
      // Tanh and average pooling learn slowly at Adam's 0.001 (94–95 % after 20 epochs).
      return TrainingRecipe(
        epochs: 30, batchSize: 100, optimizer: .adam, learningRate: 0.005, augmentation: .shifts(2),
        schedule: .wholeRunCosine, fullSizeAugmentation: AugmentationPipeline.none)
    case .cifarCNN:
      // Seed 003's RMSprop 0.001 and batches of 128. RMSprop's first steps move every weight
      // by about 10× the rate (its running average of g² starts at 0), so one epoch of warm-up;
      // the cosine decay settles the noisy constant-rate accuracy. On the 10,000-image CIFAR-10
      // sample, 20 epochs: 61.9 % with flips and 4-pixel crops, 56.0 % without (99.8 % on the
      // training images: it overfits).
      return TrainingRecipe(
        epochs: 20, batchSize: 128, optimizer: .rmsprop, augmentation: AugmentationPipeline([.horizontalFlip, .crop(padding: 4)]),
        schedule: ScheduleSpecification(decay: .cosine(epochs: nil, minimum: 0), warmupEpochs: 1))
    default:
      return .seeds
    }
  }
}

extension AugmentationPipeline {
  /// Random shifts of up to `pixels` pixels each way (`crop=P`).
  static func shifts(_ pixels: Int) -> AugmentationPipeline { AugmentationPipeline([.crop(padding: pixels)]) }
}

extension ScheduleSpecification {
  /// A cosine decay to 0 over the whole run, however long it is.
  static let wholeRunCosine = ScheduleSpecification(decay: .cosine(epochs: nil, minimum: 0))
}
