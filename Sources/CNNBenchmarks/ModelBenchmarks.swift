import CNNData
import CNNKernels
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import CNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `cnn benchmark --model`: how fast a network of the zoo trains and infers on this machine,
/// and the memory it takes, on random images of any shape.
///
/// - Training: images/s of ``Trainer/step(_:)`` (forward, softmax cross-entropy, backward, one
///   update of the model's own recipe's optimizer) on a batch of `batchSize` random images.
/// - Inference: images/s of the model called in evaluation mode (batch-norm running
///   statistics, no dropout, no pullbacks kept) at batch `batchSize` and at batch 1.
/// - Peak memory: the process's peak resident set (`getrusage`), which a fresh `cnn benchmark
///   --model` run reaches in the training step.
///
/// The PyTorch side of the training figure on real data is `../shared/bench/e2e_torch.py`.
public enum ModelBenchmarks {
  /// What to measure.
  public struct Setup: Sendable {
    public var model: ModelName
    public var batchSize: Int
    /// `[C, H, W]`.
    public var inputShape: Shape
    public var classCount: Int

    public init(model: ModelName, batchSize: Int? = nil, inputShape: Shape? = nil, classCount: Int? = nil) {
      self.model = model
      self.batchSize = batchSize ?? model.defaultRecipe(trainingImages: 0).batchSize
      self.inputShape = inputShape ?? model.defaultInputShape
      self.classCount = classCount ?? model.defaultClassCount
    }

    /// `resnet18 3x32x32`.
    var label: String { "\(model.rawValue) \(inputShape.dimensions.map(String.init).joined(separator: "x"))" }
  }

  /// The measurements for `setup`, after checking that they fit the memory budget and that the
  /// network takes the shape: the training step (unless `training` is false) as a training
  /// run is checked, inference for the weights and one batch of activations.
  /// - Throws: `RunError.memoryBudget`, `.modelDoesNotFit` or `.invalidConfiguration`.
  public static func suites(for setup: Setup, training: Bool = true, minTime: Double, repeats: Int) throws(RunError)
    -> [BenchmarkSuite]
  {
    if training {
      try TrainingSession.checkMemory(
        model: setup.model, inputShape: setup.inputShape, classCount: setup.classCount, batchSize: setup.batchSize)
    } else {
      try TrainingSession.checkInferenceMemory(
        model: setup.model, inputShape: setup.inputShape, classCount: setup.classCount, batchSize: setup.batchSize)
    }
    let bench = Bench(setup: setup)
    if training, setup.batchSize < 2,
      let layer = TrainingSession.batchNormOnSingleValues(in: bench.model, inputShape: setup.inputShape)
    {
      throw .invalidConfiguration([
        "\(setup.model.rawValue)'s batch normalization \(layer) sees 1×1 maps on \(setup.label.split(separator: " ")[1]) "
          + "images, so a training step needs at least 2 images: use --batch-size 2 or more"
      ])
    }
    var suites: [BenchmarkSuite] = []
    if training {
      suites.append(BenchmarkSuite(name: "train \(setup.label) batch \(setup.batchSize)") {
        bench.training(minTime: minTime, repeats: repeats)
      })
    }
    suites.append(BenchmarkSuite(name: "infer \(setup.label) batch \(setup.batchSize)") {
      bench.inference(batch: setup.batchSize, minTime: minTime, repeats: repeats)
    })
    if setup.batchSize != 1 {
      suites.append(BenchmarkSuite(name: "infer \(setup.label) batch 1") {
        bench.inference(batch: 1, minTime: minTime, repeats: repeats)
      })
    }
    suites.append(BenchmarkSuite(name: "peak memory \(setup.label)") {
      Measurement(name: "peak memory \(setup.label)", value: peakResidentMegabytes(), unit: "MB")
    })
    return suites
  }

  /// The network, built once and shared by the measurements of one setup.
  final class Bench {
    let setup: Setup
    lazy var model: any Layer = {
      var generator = SeededGenerator(seed: 1)
      let recipe = setup.model.defaultRecipe(trainingImages: 0)
      return setup.model.make(
        inputShape: setup.inputShape, classCount: setup.classCount, initialization: recipe.initialization,
        using: &generator)
    }()

    init(setup: Setup) { self.setup = setup }

    /// A batch of `count` random images `N(0, 1)` with random labels.
    func batch(_ count: Int) -> Batch {
      var generator = SeededGenerator(seed: 2)
      return Batch(
        images: .randomNormal([count] + setup.inputShape, using: &generator),
        labels: (0..<count).map { _ in Int.random(in: 0..<setup.classCount, using: &generator) })
    }

    func training(minTime: Double, repeats: Int) -> Measurement {
      let recipe = setup.model.defaultRecipe(trainingImages: 0)
      let optimizer = OptimizerSettings(kind: recipe.optimizer, learningRate: recipe.learningRate).make()
      let trainer = Trainer(model: model, optimizer: optimizer)
      let batch = batch(setup.batchSize)
      let seconds = KernelBenchmarks.secondsPerCall(minTime: minTime, repeats: repeats) { _ = trainer.step(batch) }
      return Measurement(
        name: "train \(setup.label) batch \(setup.batchSize) (\(recipe.optimizer))",
        value: Double(setup.batchSize) / seconds, unit: "images/s")
    }

    func inference(batch count: Int, minTime: Double, repeats: Int) -> Measurement {
      let images = batch(count).images
      let seconds = KernelBenchmarks.secondsPerCall(minTime: minTime, repeats: repeats) { _ = model(images) }
      return Measurement(
        name: "infer \(setup.label) batch \(count)", value: Double(count) / seconds, unit: "images/s")
    }
  }

  /// The process's peak resident set so far, in MB (10⁶ bytes).
  public static func peakResidentMegabytes() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
      getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
      getrusage(RUSAGE_SELF, &usage)
    #endif
    #if canImport(Darwin)
      return Double(usage.ru_maxrss) / 1e6  // bytes
    #else
      return Double(usage.ru_maxrss) * 1024 / 1e6  // kilobytes
    #endif
  }
}
