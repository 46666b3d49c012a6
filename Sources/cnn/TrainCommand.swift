import ArgumentParser
import CNNKit
import Foundation

extension ModelName: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

/// `cnn train`: trains a network on a dataset and reports its accuracy on the whole test set.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a network and report its test accuracy.",
    discussion: """
      With no options, trains the seeds' SimpleConvNet on the bundled MNIST sample (4,000 training \
      and 1,000 test images) with its default recipe: 12 epochs of Adam (learning rate 0.001, \
      batches of 100), He initialisation, random 2-pixel shifts (--augment crop=2) and a cosine \
      learning-rate decay (the shifts are left out on training sets of 20,000 images or more, \
      such as Fashion-MNIST). Every model has a recipe (`ModelName.defaultRecipe`): cifar-cnn's \
      is the seed's RMSprop 0.001 with batches of 128, flips and 4-pixel crops, one epoch of \
      warm-up and a cosine decay, 20 epochs. Each option given replaces that part of it \
      (--augment none and --schedule constant turn those off; the seeds' own recipe is \
      --epochs 20 --init normal=0.01 --augment none --schedule constant). Batches are shuffled \
      every epoch (each image once), prepared on a background thread, and the last smaller \
      batch is kept. The run stops early, saying why, if the loss becomes NaN \
      or infinite, or if accuracy stays at chance for --stop-at-chance epochs.
      """)

  @Option(help: "The network: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
  var model: ModelName = .simpleConvNet

  @OptionGroup var data: DatasetOptions

  @Option(help: "Passes over the training set (default: the model's recipe, 12 for simple-convnet).")
  var epochs: Int?

  @Option(help: "Images per optimizer step (default: the model's recipe, 100 for simple-convnet).")
  var batchSize: Int?

  @Option(
    help: """
      The optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: the model's \
      recipe, adam for simple-convnet).
      """)
  var optimizer: OptimizerKind?

  @Option(
    name: .customLong("init"),
    help: "Weight initialisation: he, xavier, pytorch or normal=STD (default: the model's recipe, he for simple-convnet).")
  var initialization: String?

  @Option(help: "The learning rate (default: the optimizer's usual one, 0.001 for Adam).")
  var learningRate: Float?

  @Option(help: "Seed for initialisation and shuffling; the same seed repeats a run exactly.")
  var seed: UInt64 = 42

  @Option(help: "Worker threads for the kernels (default: all cores).")
  var threads: Int?

  @Option(help: "Save a checkpoint (safetensors) here at the end of every epoch, written atomically.")
  var checkpoint: String?

  @Option(help: "Continue the run saved in this checkpoint up to --epochs epochs in all (model, optimizer state, shuffling and epoch come from the file).")
  var resume: String?

  @Option(
    help: """
      Augment training images, e.g. flip,crop=4,brightness=0.2,contrast=0.2,scale=0.1 (in that order), or none \
      (default: the model's recipe, crop=2 for simple-convnet on the sample, none from 20,000 training images).
      """)
  var augment: String?

  @Flag(help: "Standardise each channel with the training set's mean and standard deviation (after scaling to [0, 1]).")
  var normalize = false

  @Option(
    help: """
      Learning-rate schedule: step=EVERY[,gamma=0.1] | exponential=GAMMA | cosine[,min=LR] | \
      plateau[,factor=0.1,patience=10], each optionally with ,warmup=EPOCHS (e.g. cosine,warmup=2), or \
      constant (default: the model's recipe, cosine for simple-convnet).
      """)
  var schedule: String?

  @Option(help: "Weight decay λ (L2; decoupled for adamw). Default: the optimizer's (0, or 0.01 for adamw).")
  var weightDecay: Float?

  @Option(help: "Clip the gradients' global L2 norm to this value before each step.")
  var clipNorm: Float?

  @Option(help: "Stop when accuracy stays at chance for this many epochs in a row (0: never).")
  var stopAtChance: Int = 3

  @Flag(help: "Leave out each epoch's last batch when it is smaller than --batch-size (default: keep it).")
  var dropLast = false

  @Option(help: "Batches prepared ahead on a background thread (0: prepare each when needed). Results do not change.")
  var prefetch: Int = 2

  @Option(help: "Draw the loss and train/test accuracy per epoch here when training ends (SVG).")
  var plot: String?

  @Flag(help: "Write one JSON object per line on standard output, and nothing else.")
  var json = false

  func validate() throws {
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs)).") }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1 (got \(batchSize)).") }
    if let initialization, WeightInitialization(parsing: initialization) == nil {
      throw ValidationError(
        "--init must be he, xavier, pytorch or normal=STD with a positive STD, e.g. normal=0.01 (got \(initialization)).")
    }
    if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
      throw ValidationError("--learning-rate must be a positive number (got \(learningRate)).")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads)).") }
    if let augment { _ = try AugmentationPipeline(parsing: augment) }
    if let schedule { _ = try LearningRateSchedule(parsing: schedule, baseLearningRate: 0.001, epochs: epochs ?? 1) }
    if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) {
      throw ValidationError("--weight-decay must be a number ≥ 0 (got \(weightDecay)).")
    }
    if let clipNorm, !(clipNorm > 0 && clipNorm.isFinite) {
      throw ValidationError("--clip-norm must be a positive number (got \(clipNorm)).")
    }
    guard stopAtChance >= 0 else { throw ValidationError("--stop-at-chance must be ≥ 0 (got \(stopAtChance)).") }
    if let plot { try checkOutputName(plot, option: "--plot", extensions: ["svg"], content: "curves are written as SVG") }
    guard prefetch >= 0 else { throw ValidationError("--prefetch must be ≥ 0 (got \(prefetch)).") }
  }

  func run() throws {
    if let threads { ComputeThreads.count = threads }
    let saved = try resume.map { path in (path, try Checkpoint.load(from: URL(fileURLWithPath: path))) }
    let source = try data.source(saved: saved?.1.training?.extra ?? [:])
    let (training, test) = try source.load()
    let inputShape: Shape = [training.channels, training.height, training.width]
    let totalEpochs = epochs ?? saved?.1.training?.extra[Key.epochs].flatMap(Int.init)
      ?? (saved?.1.modelName ?? model).defaultRecipe.epochs
    let run = try saved.map {
      try resumedRun(from: $0.0, checkpoint: $0.1, inputShape: inputShape, epochs: totalEpochs)
    } ?? newRun(training: training, epochs: totalEpochs)
    var generator = run.generator
    let trainer = Trainer(model: run.model, optimizer: run.optimizer, modelName: run.modelName.rawValue)
    trainer.schedule = run.schedule
    trainer.gradientClipNorm = run.clipNorm
    trainer.health = run.health
    trainer.datasetName = source.name.rawValue
    let observers: [any TrainingObserver] = json ? [JSONLinesObserver()] : [ProgressBar()]
    let saveTo = checkpoint ?? resume
    let configuration = TrainingConfiguration(
      epochs: totalEpochs, batchSize: run.batchSize, dropLastBatch: run.dropLast,
      preparation: BatchPreparation(augmentation: run.augmentation, normalization: run.normalization),
      prefetchBatches: prefetch)
    let result = try trainer.fit(
      training, test: test, configuration: configuration, using: &generator, seed: run.seed, observers: observers,
      startingEpoch: run.startingEpoch
    ) { epoch, generator in
      guard let saveTo else { return }
      var extra = source.extra.merging(run.extra) { _, new in new }
      extra[Key.threads] = String(ComputeThreads.count)
      extra[Key.epochs] = String(totalEpochs)
      if let schedule = trainer.schedule { extra[Key.scheduleState] = schedule.stateDescription }
      extra[Key.epochsAtChance] = String(trainer.health.epochsAtChance)
      let state = TrainingState(
        epochsCompleted: epoch, optimizerKind: run.optimizerKind, optimizer: run.optimizer, model: run.model,
        generator: generator, seed: run.seed, batchSize: run.batchSize, extra: extra)
      try Checkpoint.save(
        model: run.model, modelName: run.modelName, inputShape: inputShape, classCount: training.classCount,
        classNames: training.classNames, training: state, to: URL(fileURLWithPath: saveTo))
    }
    if let plot {
      let curves = TrainingCurves(summaries: result.epochs, subtitle: "\(run.modelName.rawValue), \(source.name.rawValue)")
      try curves.svg().write(to: plot)
      if !json { print("wrote \(plot)") }
    }
    if let stop = result.stop {
      if json { Console.error("\(stop)\n") }
      throw ExitCode.failure
    }
  }

  /// The `TrainingState.extra` keys of a run's settings.
  enum Key {
    static let threads = "threads"
    static let epochs = "epochs"
    static let augment = "augment"
    static let normalization = "normalization"
    static let schedule = "schedule"
    static let scheduleState = "schedule_state"
    static let baseLearningRate = "base_learning_rate"
    static let weightDecay = "weight_decay"
    static let clipNorm = "clip_norm"
    static let stopAtChance = "stop_at_chance"
    static let epochsAtChance = "epochs_at_chance"
    static let dropLast = "drop_last"
  }

  /// What a run needs, fresh or resumed.
  struct Run {
    var model: any Layer
    var modelName: ModelName
    var optimizer: any Optimizer
    var optimizerKind: OptimizerKind
    var generator: SeededGenerator
    var seed: UInt64
    var batchSize: Int
    var startingEpoch: Int
    var augmentation: AugmentationPipeline
    var normalization: Normalization?
    var schedule: LearningRateSchedule?
    var clipNorm: Float?
    var dropLast: Bool
    var health: TrainingHealth
    /// The settings to save with each checkpoint.
    var extra: [String: String]
  }

  /// A fresh run: each option not given comes from the model's ``TrainingRecipe``.
  func newRun(training: Dataset, epochs: Int) throws -> Run {
    let recipe = model.defaultRecipe(trainingImages: training.count)
    let optimizer = optimizer ?? recipe.optimizer
    let learningRate = learningRate ?? (optimizer == recipe.optimizer ? recipe.learningRate : nil)
    let batchSize = batchSize ?? recipe.batchSize
    let initialization = initialization.flatMap(WeightInitialization.init(parsing:)) ?? recipe.initialization
    let inputShape: Shape = [training.channels, training.height, training.width]
    // Check the network fits the images before building it for real (building traps otherwise).
    var probe = SeededGenerator(seed: 0)
    do {
      _ = try ModelSummary(model: model, inputShape: inputShape, classCount: training.classCount, using: &probe)
    } catch {
      throw CommandError(
        "--model \(model.rawValue) does not fit this data's \(inputShape[0])×\(inputShape[1])×\(inputShape[2]) "
          + "images: \(error.description).\n---> HINT: pick a model built for this image size (`cnn summary --model "
          + "NAME --input \(inputShape[0])x\(inputShape[1])x\(inputShape[2])` checks one), or resize a folder "
          + "dataset with --image-size.")
    }
    var generator = SeededGenerator(seed: seed)
    let network = model.make(
      inputShape: inputShape, classCount: training.classCount, initialization: initialization, using: &generator)
    let augmentation = try AugmentationPipeline(parsing: augment ?? recipe.augmentation)
    let normalization = normalize ? Normalization.measured(on: training) : nil
    let base = learningRate ?? optimizer.defaultLearningRate
    var plan: LearningRateSchedule? = try LearningRateSchedule(
      parsing: schedule ?? recipe.schedule, baseLearningRate: base, epochs: epochs)
    if plan?.isConstant == true { plan = nil }
    var extra: [String: String] = [Key.stopAtChance: String(stopAtChance)]
    if !augmentation.isEmpty { extra[Key.augment] = augmentation.description }
    if let normalization { extra[Key.normalization] = normalization.description }
    if let plan {
      extra[Key.schedule] = plan.description
      extra[Key.baseLearningRate] = base.description
    }
    if let weightDecay { extra[Key.weightDecay] = weightDecay.description }
    if let clipNorm { extra[Key.clipNorm] = clipNorm.description }
    if dropLast { extra[Key.dropLast] = "true" }
    let optimizerInstance = weightDecay.map { optimizer.make(learningRate: learningRate, weightDecay: $0) }
      ?? optimizer.make(learningRate: learningRate)
    return Run(
      model: network, modelName: model, optimizer: optimizerInstance, optimizerKind: optimizer,
      generator: generator, seed: seed, batchSize: batchSize, startingEpoch: 1, augmentation: augmentation,
      normalization: normalization, schedule: plan, clipNorm: clipNorm, dropLast: dropLast,
      health: TrainingHealth(chancePatience: stopAtChance > 0 ? stopAtChance : nil), extra: extra)
  }

  /// Rebuilds a saved run; the file's model, optimizer, batch size, threads, augmentation,
  /// normalization, schedule, weight decay, clipping and drop-last win over options.
  func resumedRun(from path: String, checkpoint saved: Checkpoint, inputShape: Shape, epochs: Int) throws -> Run {
    guard let state = saved.training, let modelName = saved.modelName else {
      throw CommandError(
        "\(path) holds weights only, with no training state to resume. Use --checkpoint FILE on a run to save one.")
    }
    guard saved.inputShape == nil || saved.inputShape == inputShape else {
      throw CommandError(
        "\(path) was trained on images of \(saved.inputShape.map(\.description) ?? "?"), but the data has \(inputShape). "
          + "Pass the same --dataset and --data-dir as the saved run (\(state.extra["dataset"] ?? "unknown"), "
          + "\(state.extra["data_dir"] ?? "unknown")), or leave both out to use them.")
    }
    if state.epochsCompleted >= epochs {
      throw CommandError(
        "\(path) has already finished \(state.epochsCompleted) epochs; pass --epochs with a larger total to continue.")
    }
    if threads == nil, let saved = state.extra[Key.threads].flatMap(Int.init), saved > 0 {
      ComputeThreads.count = saved  // the per-thread gradient sums fix the rounding: same threads, same bits
    }
    let extra = state.extra
    func invalid(_ key: String) -> CommandError {
      CommandError("\(path): the saved setting \(key) = '\(extra[key] ?? "")' cannot be read; the file is damaged.")
    }
    let network = try saved.makeModel()
    try state.restoreDropout(in: network)
    let optimizerInstance: any Optimizer
    if let text = extra[Key.weightDecay] {
      guard let decay = Float(text), decay >= 0 else { throw invalid(Key.weightDecay) }
      optimizerInstance = state.optimizer.make(learningRate: state.learningRate, weightDecay: decay)
      try optimizerInstance.loadState(state.optimizerState, for: network.parameters)
    } else {
      optimizerInstance = try state.makeOptimizer(for: network)
    }
    let augmentation = try extra[Key.augment].map { try AugmentationPipeline(parsing: $0) } ?? .none
    let normalization = try extra[Key.normalization].map { text in
      guard let value = Normalization(parsing: text) else { throw invalid(Key.normalization) }
      return value
    }
    var plan: LearningRateSchedule?
    if let text = extra[Key.schedule] {
      guard let base = extra[Key.baseLearningRate].flatMap(Float.init) else { throw invalid(Key.baseLearningRate) }
      var value = try LearningRateSchedule(parsing: text, baseLearningRate: base, epochs: epochs)
      guard value.restoreState(extra[Key.scheduleState] ?? "") else { throw invalid(Key.scheduleState) }
      plan = value
    }
    let clip = try extra[Key.clipNorm].map { text in
      guard let value = Float(text), value > 0 else { throw invalid(Key.clipNorm) }
      return value
    }
    let patience = extra[Key.stopAtChance].flatMap(Int.init) ?? stopAtChance
    var health = TrainingHealth(chancePatience: patience > 0 ? patience : nil)
    health.epochsAtChance = extra[Key.epochsAtChance].flatMap(Int.init) ?? 0
    let kept = extra.filter {
      [Key.augment, Key.normalization, Key.schedule, Key.baseLearningRate, Key.weightDecay, Key.clipNorm,
        Key.stopAtChance, Key.dropLast].contains($0.key)
    }
    return Run(
      model: network, modelName: modelName, optimizer: optimizerInstance, optimizerKind: state.optimizer,
      generator: state.generator, seed: state.seed, batchSize: state.batchSize,
      startingEpoch: state.epochsCompleted + 1, augmentation: augmentation, normalization: normalization,
      schedule: plan, clipNorm: clip, dropLast: extra[Key.dropLast] == "true", health: health, extra: kept)
  }
}
