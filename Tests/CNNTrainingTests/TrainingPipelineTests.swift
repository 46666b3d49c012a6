import CNNData
import CNNLayers
import CNNOptimizers
import CNNTensor
import Testing

@testable import CNNTraining

/// `count` random 1 × 8 × 8 images with labels `i % 4`.
private func randomData(count: Int, seed: UInt64) -> Dataset {
  var generator = SeededGenerator(seed: seed)
  return Dataset(
    images: (0..<(count * 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) },
    labels: (0..<count).map { $0 % 4 }, channels: 1, height: 8, width: 8, classNames: ["a", "b", "c", "d"])
}

private func network(seed: UInt64) -> Sequential {
  var g = SeededGenerator(seed: seed)
  return Sequential {
    Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, using: &g)
    ReLU()
    Flatten()
    Linear(inputFeatures: 4 * 6 * 6, outputFeatures: 4, using: &g)
  }
}

private func weights(_ model: any Layer) -> [[Float]] { model.parameters.map(\.value.scalars) }

@Suite struct TrainingPipelineTests {
  @Test func prefetchingDoesNotChangeTheRun() {
    let data = randomData(count: 30, seed: 1)
    func train(prefetch: Int) -> ([[Float]], SeededGenerator) {
      let model = network(seed: 2)
      var generator = SeededGenerator(seed: 3)
      let trainer = Trainer(model: model, optimizer: Adam(learningRate: 0.01))
      trainer.schedule = LearningRateSchedule(baseLearningRate: 0.01, decay: .cosine(epochs: 3, minimum: 0), warmupEpochs: 1)
      trainer.gradientClipNorm = 0.5
      let preparation = BatchPreparation(
        augmentation: try! AugmentationPipeline(parsing: "flip,crop=2,brightness=0.2,contrast=0.2,scale=0.1"),
        normalization: .measured(on: data))
      trainer.fit(
        data, test: data, configuration: TrainingConfiguration(epochs: 3, batchSize: 7, preparation: preparation, prefetchBatches: prefetch),
        using: &generator)
      return (weights(model), generator)
    }
    let (synchronous, g1) = train(prefetch: 0)
    let (background, g2) = train(prefetch: 2)
    #expect(synchronous == background)
    #expect(g1 == g2)
  }

  @Test func plainPreparationKeepsTheOldStream() {
    // Without augmentation the generator advances only by the shuffles, as before.
    let data = randomData(count: 20, seed: 4)
    var a = SeededGenerator(seed: 5), b = a
    Trainer(model: network(seed: 6), optimizer: SGD(learningRate: 0.1)).fit(
      data, test: nil, configuration: TrainingConfiguration(epochs: 2, batchSize: 5), using: &a)
    _ = data.batches(size: 5, shuffledUsing: &b)
    _ = data.batches(size: 5, shuffledUsing: &b)
    #expect(a == b)
  }

  @Test func aNaNLossStopsTheRunWithAnExplanation() {
    let data = randomData(count: 20, seed: 7)
    let model = network(seed: 8)
    var generator = SeededGenerator(seed: 9)
    let trainer = Trainer(model: model, optimizer: SGD(learningRate: .infinity))
    let recorder = Recorder()
    var saved: [Int] = []
    let result = trainer.fit(
      data, test: data, configuration: TrainingConfiguration(epochs: 5, batchSize: 5), using: &generator,
      observers: [recorder]
    ) { epoch, _ in saved.append(epoch) }
    guard case .nonFiniteLoss(let epoch, let batch, let loss)? = result.stop else {
      Issue.record("expected a non-finite-loss stop, got \(String(describing: result.stop))")
      return
    }
    #expect(epoch == 1 && batch == 2 && !loss.isFinite)
    #expect(result.epochs.isEmpty && saved.isEmpty)
    #expect(result.stop?.description.contains("lower the learning rate") == true)
    if case .finished(let reported)? = recorder.events.last {
      #expect(reported.stop?.kind == "non_finite_loss")  // (NaN ≠ NaN, so compare the kind)
    } else {
      Issue.record("the last event should be .finished")
    }
    #expect(TrainingEvent.finished(result).jsonLine.contains("\"stopped\":\"non_finite_loss\""))
  }

  @Test func accuracyStuckAtChanceStopsAfterThePatience() {
    // Random labels cannot be learnt with a zero learning rate: accuracy stays at chance.
    let data = randomData(count: 40, seed: 10)
    var generator = SeededGenerator(seed: 11)
    let model = network(seed: 12)
    model.parameters.forEach { $0.value = Tensor.zeros($0.shape) }  // every logit 0: always class 0
    let trainer = Trainer(model: model, optimizer: SGD(learningRate: 0))
    trainer.health = TrainingHealth(chancePatience: 3)
    var saved: [Int] = []
    let result = trainer.fit(
      data, test: data, configuration: TrainingConfiguration(epochs: 10, batchSize: 10), using: &generator
    ) { epoch, _ in saved.append(epoch) }
    #expect(result.stop == .stuckAtChance(epochs: 3, accuracy: 0.25, chance: 0.25))
    #expect(result.epochs.count == 3 && saved == [1, 2, 3])
    #expect(result.stop?.description.contains("initialisation") == true)
    #expect(TrainingHealth.chanceAccuracy(of: [0, 0, 1, 2]) == 0.5)
  }

  @Test func classificationReportCountsEverything() {
    var report = ClassificationReport(classNames: (0..<6).map { "c\($0)" })
    // Row i's logits favour class (i + shift) % 6, and the label is ranked by the logits.
    let logits = Tensor(shape: [3, 6], scalars: [
      5, 4, 3, 2, 1, 0,  // predicts 0
      0, 1, 2, 3, 4, 5,  // predicts 5
      1, 9, 2, 3, 4, 8,  // predicts 1
    ])
    report.add(logits: logits, labels: [0, 0, 5])
    #expect(report.count == 3 && report.correct == 1)
    #expect(report.topK == 5)
    #expect(report.topKCorrect == 2)  // label 0 of row 1 is last of six; label 5 of row 2 is second
    #expect(report.confusion[0] == [1, 0, 0, 0, 0, 1])
    #expect(report.confusion[5] == [0, 1, 0, 0, 0, 0])
    #expect(report.perClassAccuracy[0] == 0.5 && report.perClassAccuracy[5] == 0 && report.perClassAccuracy[1] == nil)
    #expect(report.text.contains("accuracy 33.33% (1/3)  top-5 66.67%"))
    #expect(report.json.hasPrefix("{\"event\":\"evaluation\",\"accuracy\":"))
    #expect(report.json.contains("\"count\":3,"))
    #expect(report.json.contains("\"matrix\":[[1,0,0,0,0,1],"))
    #expect(ClassificationReport(classNames: ["a", "b"]).topK == nil)
  }

  @Test func reportOnAModelMatchesEvaluate() {
    let data = randomData(count: 23, seed: 13)
    let model = network(seed: 14)
    let normalization = Normalization.measured(on: data)
    let report = ClassificationReport(model: model, dataset: data, batchSize: 5, normalization: normalization)
    let evaluation = model.evaluate(on: data, batchSize: 23, normalization: normalization)
    #expect(report.count == 23 && report.correct == evaluation.correct)
    #expect(abs(report.loss - evaluation.loss) < 1e-5)
    #expect(report.classCounts == [6, 6, 6, 5])
  }
}
