import CNNData
import CNNLayers
import CNNOptimizers
import CNNTensor
import Foundation
import Testing

@testable import CNNTraining

/// Collects events for inspection.
final class Recorder: TrainingObserver {
  var events: [TrainingEvent] = []
  func receive(_ event: TrainingEvent) { events.append(event) }
}

@Suite struct TrainerTests {
  static let sample: MNIST? = try? MNIST.bundledSample()

  func smallNetwork(using g: inout SeededGenerator) -> Sequential {
    Sequential {
      Conv2D(inputChannels: 1, outputChannels: 8, kernelSize: 5, using: &g)
      ReLU()
      MaxPool2D(kernelSize: 2, stride: 2)
      Flatten()
      Linear(inputFeatures: 8 * 12 * 12, outputFeatures: 10, using: &g)
    }
  }

  /// A small network learns real digits: far above the 10 % of guessing after two epochs.
  @Test func learnsMNISTDigits() throws {
    let mnist = try #require(Self.sample)
    var g = SeededGenerator(seed: 1)
    let trainer = Trainer(model: smallNetwork(using: &g), optimizer: Adam(learningRate: 3e-3))
    let before = trainer.model.evaluate(on: mnist.test.prefix(500)).accuracy
    let result = trainer.fit(
      mnist.training.prefix(1000), test: mnist.test.prefix(500),
      configuration: TrainingConfiguration(epochs: 2, batchSize: 50), using: &g)
    let after = try #require(result.finalTestAccuracy)
    #expect(before < 0.3)
    #expect(after > 0.8, "test accuracy after 2 epochs: \(after)")
    #expect(result.epochs.count == 2)
    #expect(result.epochs[1].trainLoss < result.epochs[0].trainLoss)
  }

  /// The seeds' loop: each epoch evaluated on the first N test images, and the accuracy on
  /// the first N training images measured after the epoch (the seeds' `train_acc_list`).
  @Test func evaluationSampleMeasuresTheFirstImagesOfEachSplit() throws {
    let mnist = try #require(Self.sample)
    var g = SeededGenerator(seed: 3)
    let model = smallNetwork(using: &g)
    let trainer = Trainer(model: model, optimizer: Adam(learningRate: 3e-3))
    let recorder = Recorder()
    let result = trainer.fit(
      mnist.training.prefix(400), test: mnist.test.prefix(300),
      configuration: TrainingConfiguration(epochs: 2, batchSize: 100, evaluationSample: 120), using: &g,
      observers: [recorder])
    guard case .started(let start) = recorder.events.first else {
      Issue.record("no started event")
      return
    }
    #expect(start.evaluationSample == 120 && start.testSamples == 300)
    let last = try #require(result.epochs.last)
    #expect(result.epochs.map(\.testImages) == [120, 120])
    // The last epoch's numbers are those of the final weights on exactly those images.
    #expect(last.testAccuracy == model.evaluate(on: mnist.test.prefix(120)).accuracy)
    #expect(last.sampleTrainAccuracy == model.evaluate(on: mnist.training.prefix(120)).accuracy)
    #expect(last.testLoss != model.evaluate(on: mnist.test.prefix(300)).loss, "not the whole test set")
    #expect(result.trainAccuracies == result.epochs.compactMap(\.sampleTrainAccuracy) && result.trainAccuracies.count == 2)
    #expect(result.testAccuracies.count == 2)
  }

  /// The same seed gives bit-identical weights; another seed gives different ones.
  @Test func sameSeedSameWeights() throws {
    let mnist = try #require(Self.sample)
    func train(seed: UInt64) -> [Float] {
      var g = SeededGenerator(seed: seed)
      let model = smallNetwork(using: &g)
      Trainer(model: model, optimizer: Adam(learningRate: 1e-3)).fit(
        mnist.training.prefix(300), test: nil, configuration: TrainingConfiguration(epochs: 1, batchSize: 64), using: &g)
      return model.parameters.flatMap(\.value.scalars)
    }
    let first = train(seed: 5)
    #expect(first == train(seed: 5))
    #expect(first != train(seed: 6))
  }

  /// Events arrive in order, and the JSON lines are valid JSON with the documented keys.
  @Test func eventsAndJSONLines() throws {
    let mnist = try #require(Self.sample)
    var g = SeededGenerator(seed: 2)
    let recorder = Recorder()
    var lines: [String] = []
    let json = JSONLinesObserver(write: { lines.append($0) })
    let trainer = Trainer(model: smallNetwork(using: &g), optimizer: SGD(learningRate: 0.1))
    trainer.schedule = try LearningRateSchedule(parsing: "cosine", baseLearningRate: 0.1, epochs: 2)
    trainer.datasetDescription = "mnist-sample"
    trainer.notes = ["resumed at epoch 1 of 2"]
    let preparation = BatchPreparation(augmentation: try AugmentationPipeline(parsing: "flip,crop=2"))
    trainer.fit(
      mnist.training.prefix(250), test: mnist.test.prefix(100),
      configuration: TrainingConfiguration(epochs: 2, batchSize: 100, preparation: preparation), using: &g,
      seed: 2, observers: [recorder, json])
    // 250 images in batches of 100: 3 batches per epoch, the last one partial.
    let batchCount = recorder.events.filter { if case .batch = $0 { return true } else { return false } }.count
    #expect(batchCount == 6)
    guard case .started = recorder.events.first, case .finished = recorder.events.last else {
      Issue.record("events must start with .started and end with .finished")
      return
    }
    let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(lines.allSatisfy { $0.hasSuffix("}\n") && !$0.dropLast().contains("\n") })
    let epochs = objects.filter { $0["event"] as? String == "epoch" }
    #expect(epochs.count == 2)
    for key in ["epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds"] {
      #expect(epochs.allSatisfy { $0[key] is NSNumber }, "missing \(key)")
    }
    // The start says which augmentation and schedule the run uses.
    let started = try #require(objects.first)
    #expect(started["augmentation"] as? String == "flip,crop=2")
    #expect((started["schedule"] as? String)?.hasPrefix("cosine") == true)
    #expect(started["dataset"] as? String == "mnist-sample")
    #expect(started["notes"] as? [String] == ["resumed at epoch 1 of 2"])
    #expect(started["seed"] as? Int == 2)
    // Each epoch reports the learning rate of its last step (batch index 2 of 3).
    let schedule = try #require(trainer.schedule)
    for (index, epoch) in epochs.enumerated() {
      let expected = schedule.learningRate(epoch: index + 1, batch: 2, batchesPerEpoch: 3)
      #expect((epoch["learning_rate"] as? NSNumber)?.floatValue == expected)
    }
    // Every line decodes back to its event (durations at the log's precision).
    #expect(try lines.map { try TrainingEvent(jsonLine: $0).kind } == recorder.events.map(\.kind))
  }
}
