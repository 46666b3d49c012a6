import ArgumentParser
import CNNKit
import Foundation

extension ModelName: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

/// `cnn train`: trains a network on an MNIST-format dataset and reports its accuracy.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a network and report its test accuracy.",
    discussion: """
      With no options, trains the seeds' SimpleConvNet for 20 epochs with Adam (learning rate \
      0.001, batches of 100) on the bundled MNIST sample (4,000 training and 1,000 test images).
      """)

  @Option(help: "The network: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
  var model: ModelName = .simpleConvNet

  @Option(help: "A directory holding the four MNIST-format IDX files (train-images-idx3-ubyte[.gz], …); default: the bundled sample.")
  var dataDir: String?

  @Option(help: "Passes over the training set.")
  var epochs: Int = 20

  @Option(help: "Images per optimizer step.")
  var batchSize: Int = 100

  @Option(help: "The optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
  var optimizer: OptimizerKind = .adam

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

  @Flag(help: "Write one JSON object per line on standard output, and nothing else.")
  var json = false

  func validate() throws {
    guard epochs > 0 else { throw ValidationError("--epochs must be at least 1 (got \(epochs)).") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize)).") }
    if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
      throw ValidationError("--learning-rate must be a positive number (got \(learningRate)).")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads)).") }
  }

  func run() throws {
    if let threads { ComputeThreads.count = threads }
    let data = try dataDir.map { try MNIST(directory: URL(fileURLWithPath: $0)) } ?? MNIST.bundledSample()
    let training = data.training
    let inputShape: Shape = [training.channels, training.height, training.width]
    let run = try resume.map { try resumedRun(from: $0, inputShape: inputShape) }
      ?? newRun(inputShape: inputShape, classCount: training.classCount)
    var generator = run.generator
    let trainer = Trainer(model: run.model, optimizer: run.optimizer, modelName: run.modelName.rawValue)
    let observers: [any TrainingObserver] = json ? [JSONLinesObserver()] : [ProgressBar()]
    let saveTo = checkpoint ?? resume
    try trainer.fit(
      training, test: data.test, configuration: TrainingConfiguration(epochs: epochs, batchSize: run.batchSize),
      using: &generator, seed: run.seed, observers: observers, startingEpoch: run.startingEpoch
    ) { epoch, generator in
      guard let saveTo else { return }
      let state = TrainingState(
        epochsCompleted: epoch, optimizerKind: run.optimizerKind, optimizer: run.optimizer, model: run.model,
        generator: generator, seed: run.seed, batchSize: run.batchSize,
        extra: ["data_dir": dataDir ?? "bundled", "threads": String(ComputeThreads.count)])
      try Checkpoint.save(
        model: run.model, modelName: run.modelName, inputShape: inputShape, classCount: training.classCount,
        classNames: training.classNames, training: state, to: URL(fileURLWithPath: saveTo))
    }
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
  }

  func newRun(inputShape: Shape, classCount: Int) -> Run {
    var generator = SeededGenerator(seed: seed)
    let network = model.make(inputShape: inputShape, classCount: classCount, using: &generator)
    return Run(
      model: network, modelName: model, optimizer: optimizer.make(learningRate: learningRate), optimizerKind: optimizer,
      generator: generator, seed: seed, batchSize: batchSize, startingEpoch: 1)
  }

  /// Rebuilds a saved run; the file's model, optimizer, batch size and threads win over options.
  func resumedRun(from path: String, inputShape: Shape) throws -> Run {
    let saved = try Checkpoint.load(from: URL(fileURLWithPath: path))
    guard let state = saved.training, let modelName = saved.modelName else {
      throw ValidationError(
        "\(path) holds weights only, with no training state to resume. Use --checkpoint FILE on a run to save one.")
    }
    guard saved.inputShape == nil || saved.inputShape == inputShape else {
      throw ValidationError(
        "\(path) was trained on images of \(saved.inputShape.map(\.description) ?? "?"), but the data has \(inputShape). "
          + "Pass the same --data-dir as the saved run (\(state.extra["data_dir"] ?? "unknown")).")
    }
    if state.epochsCompleted >= epochs {
      throw ValidationError(
        "\(path) has already finished \(state.epochsCompleted) epochs; pass --epochs with a larger total to continue.")
    }
    if threads == nil, let saved = state.extra["threads"].flatMap(Int.init), saved > 0 {
      ComputeThreads.count = saved  // the per-thread gradient sums fix the rounding: same threads, same bits
    }
    let network = try saved.makeModel()
    try state.restoreDropout(in: network)
    return Run(
      model: network, modelName: modelName, optimizer: try state.makeOptimizer(for: network),
      optimizerKind: state.optimizer, generator: state.generator, seed: state.seed, batchSize: state.batchSize,
      startingEpoch: state.epochsCompleted + 1)
  }
}
