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
    let data: MNIST
    if let dataDir {
      data = try MNIST(directory: URL(fileURLWithPath: dataDir))
    } else {
      data = try MNIST.bundledSample()
    }
    let training = data.training
    var generator = SeededGenerator(seed: seed)
    let network = model.make(
      inputShape: [training.channels, training.height, training.width], classCount: training.classCount,
      using: &generator)
    let trainer = Trainer(
      model: network, optimizer: optimizer.make(learningRate: learningRate), modelName: model.rawValue)
    let observers: [any TrainingObserver] = json ? [JSONLinesObserver()] : [ProgressBar()]
    trainer.fit(
      training, test: data.test, configuration: TrainingConfiguration(epochs: epochs, batchSize: batchSize),
      using: &generator, seed: seed, observers: observers)
  }
}
