import CNNData
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import Testing

@testable import CNNTraining

/// ResNet-18 on 32×32 images ends with 1×1 maps, where batch normalization cannot train on a
/// batch of one image. Found by training it on 128 images in batches of 127: the last batch
/// of one image trapped in `BatchNorm2D` at the end of the first epoch.
@Suite struct BatchNormBatchTests {
  /// Built with nothing drawn: only its shapes matter here.
  let resNet: any Layer = {
    var generator = SeededGenerator(seed: 1)
    return ModelName.resNet18.make(inputShape: [3, 32, 32], classCount: 2, initialization: .zeros, using: &generator)
  }()

  static func run(batchSize: Int, dropLast: Bool = false) -> RunConfiguration {
    RunConfiguration(
      model: .resNet18, dataset: .mnistSample, inputShape: [3, 32, 32], classNames: ["a", "b"],
      optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.01), epochs: 1, batchSize: batchSize,
      dropLastBatch: dropLast)
  }

  @Test func theLayerOnOneByOneMapsIsFound() {
    #expect(TrainingSession.batchNormOnSingleValues(in: resNet, inputShape: [3, 32, 32]) == "layer4.0.bn1")
    #expect(TrainingSession.batchNormOnSingleValues(in: resNet, inputShape: [3, 64, 64]) == nil)
    var generator = SeededGenerator(seed: 1)
    let plain = ModelName.simpleConvNet.make(inputShape: [1, 28, 28], classCount: 10, using: &generator)
    #expect(TrainingSession.batchNormOnSingleValues(in: plain, inputShape: [1, 28, 28]) == nil)
  }

  @Test func aBatchOfOneIsRefusedNamingTheLayer() {
    var run = Self.run(batchSize: 1)
    var notes: [String] = []
    let error = #expect(throws: RunError.self) {
      try TrainingSession.fitBatchesToBatchNorm(&run, model: resNet, trainingImages: 100, notes: &notes)
    }
    #expect(error?.description.contains("layer4.0.bn1") == true, "\(String(describing: error))")
    #expect(error?.description.contains("batch size of 2 or more") == true)
  }

  @Test(arguments: [(127, 128, true), (127, 127, false), (100, 201, true), (100, 202, false), (2, 5, true)])
  func aLastBatchOfOneImageIsLeftOut(batchSize: Int, images: Int, leftOut: Bool) throws {
    var run = Self.run(batchSize: batchSize)
    var notes: [String] = []
    try TrainingSession.fitBatchesToBatchNorm(&run, model: resNet, trainingImages: images, notes: &notes)
    #expect(run.dropLastBatch == leftOut)
    #expect(notes.count == (leftOut ? 1 : 0))
    #expect(notes.first?.contains("1 of the \(images) images") ?? !leftOut)
  }

  /// Over ranks each takes a share of every batch: per-rank batch norm on 1×1 maps needs 2
  /// images a share, synchronised batch norm 1 (a rank without one would leave the others
  /// waiting). `DataParallel.check` said so with a precondition nobody called.
  @Test func sharesOverRanksAreCheckedBeforeTraining() throws {
    var notes: [String] = []
    var run = Self.run(batchSize: 3)
    let perRank = #expect(throws: RunError.self) {
      try TrainingSession.fitBatchesToRanks(
        &run, model: resNet, trainingImages: 100, ranks: 2, synchronizedBatchNorm: false, notes: &notes)
    }
    #expect(perRank?.description.contains("at least 4") == true, "\(String(describing: perRank))")

    run = Self.run(batchSize: 4)
    try TrainingSession.fitBatchesToRanks(
      &run, model: resNet, trainingImages: 130, ranks: 2, synchronizedBatchNorm: false, notes: &notes)
    #expect(run.dropLastBatch && notes.count == 1 && notes[0].contains("hold 2 of the 130 images"))

    run = Self.run(batchSize: 2)
    notes = []
    try TrainingSession.fitBatchesToRanks(
      &run, model: resNet, trainingImages: 130, ranks: 2, synchronizedBatchNorm: true, notes: &notes)
    #expect(!run.dropLastBatch && notes.isEmpty)
    let synchronized = #expect(throws: RunError.self) {
      try TrainingSession.fitBatchesToRanks(
        &run, model: resNet, trainingImages: 130, ranks: 3, synchronizedBatchNorm: true, notes: &notes)
    }
    #expect(synchronized?.description.contains("synchronised over 3 ranks") == true)

    var generator = SeededGenerator(seed: 1)
    let plain = ModelName.simpleConvNet.make(inputShape: [3, 32, 32], classCount: 2, using: &generator)
    run = Self.run(batchSize: 1)
    try TrainingSession.fitBatchesToRanks(
      &run, model: plain, trainingImages: 5, ranks: 4, synchronizedBatchNorm: true, notes: &notes)
    #expect(!run.dropLastBatch)
  }
}
