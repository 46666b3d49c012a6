import CNNData
import CNNLayers
import CNNTensor
import CNNTraining
import Foundation
import Testing

@testable import CNNDashboard

@Suite struct SnapshotTests {
  static var maker: SnapshotMaker { SnapshotMaker(model: Fixtures.model(), test: Fixtures.test, normalization: nil, sampleCount: 8) }

  /// Every layer of a Sequential model has an entry: maps as a PNG, vectors as values.
  @Test func everyLayerHasItsActivations() throws {
    let snapshot = Self.maker.snapshot(epoch: 1, batch: 2, statistics: [])
    let layers = (Self.maker.model as? Sequential)?.layers.count
    #expect(snapshot.activations.count == layers)
    let first = try #require(snapshot.activations.first)
    #expect(first.shape == [1, 30, 8, 8])
    #expect(pngBytes(ofDataURL: first.image)?.prefix(8).elementsEqual(pngSignature) == true)
    let last = try #require(snapshot.activations.last)
    #expect(last.shape == [1, 10] && last.image == nil && last.values?.count == 10)
  }

  @Test func filtersArePNGTilesOfTheFirstConvolution() throws {
    let filters = try #require(Self.maker.filters())
    #expect(filters.name == "0.weight" && filters.shape == [30, 1, 5, 5])
    #expect(pngBytes(ofDataURL: filters.image)?.prefix(8).elementsEqual(pngSignature) == true)
  }

  /// Three classes per sample, likeliest first, each a probability; the samples are spread over the split.
  @Test func predictionsAreTheTopThreeClasses() {
    let predictions = Self.maker.predictions()
    #expect(predictions.map(\.index) == [0, 2, 4, 6, 8, 10, 12, 14])
    for prediction in predictions {
      #expect(prediction.top.count == 3 && Set(prediction.top).count == 3)
      #expect(prediction.probabilities == prediction.probabilities.sorted(by: >))
      #expect(prediction.probabilities.allSatisfy { $0 >= 0 && $0 <= 1 } && prediction.probabilities.reduce(0, +) <= 1.002)
      #expect(prediction.label == Fixtures.test.labels[prediction.index])
    }
  }

  @Test func sampleImagesArePNGs() {
    let samples = Self.maker.sampleImages().samples
    #expect(samples.count == 8)
    #expect(samples.allSatisfy { pngBytes(ofDataURL: $0.image)?.prefix(8).elementsEqual(pngSignature) == true })
  }

  /// The snapshot's JSON line: `event` first, snake_case keys, and it decodes back to the same value.
  @Test func snapshotEncodesAsOneJSONLine() throws {
    let statistics = [
      Snapshot.ParameterStatistics(
        name: "0.weight", weightMean: 0.5, weightStd: 0.25, gradientMean: 0, gradientStd: 0.125, updateRatio: 0.001)
    ]
    let snapshot = Self.maker.snapshot(epoch: 1, batch: 2, statistics: statistics)
    let line = DashboardMessage.jsonLine("snapshot", snapshot)
    #expect(line.hasPrefix("{\"event\":\"snapshot\","))
    #expect(!line.contains("\n"))
    #expect(line.contains("\"update_ratio\":0.001") && line.contains("\"weight_std\":0.25"))
    let decoded = try JSONLines.decoder().decode(Snapshot.self, from: Data(line.utf8))
    #expect(decoded == snapshot)
  }

  @Test func confusionCountsEveryTestImageOnce() {
    let confusion = Self.maker.confusion(on: Fixtures.test, epoch: 3)
    #expect(confusion.epoch == 3 && confusion.images == 20 && confusion.classNames == Fixtures.classNames)
    #expect(confusion.counts.map { $0.reduce(0, +) } == (0..<10).map { c in Fixtures.test.labels.filter { $0 == c }.count })
    let line = DashboardMessage.jsonLine("confusion", confusion)
    #expect(line.contains("\"class_names\":[\"0\""))
  }

  /// The update ratio is ‖Δw‖ / ‖w‖ of the step between the two halves.
  @Test func parameterWatchMeasuresTheUpdate() throws {
    let layer = Linear(inputFeatures: 2, outputFeatures: 2, initialization: .he, using: &Self.generator)
    layer.weight.value = Tensor(shape: [2, 2], scalars: [3, 0, 0, 4])  // ‖w‖ = 5
    layer.weight.gradient = Tensor(shape: [2, 2], scalars: [1, -1, 1, -1])
    var watch = ParameterWatch(model: layer)
    watch.capture(layer.parameters)
    layer.weight.value = Tensor(shape: [2, 2], scalars: [3, 0, 0, 4.05])  // ‖Δw‖ = 0.05
    let statistics = watch.finish()
    let weight = try #require(statistics.first { $0.name == "weight" })
    #expect(abs(weight.updateRatio - 0.01) < 1e-5)
    #expect(weight.gradientMean == 0 && weight.gradientStd == 1)
    #expect(abs(weight.weightMean - 7.05 / 4) < 1e-6)
    #expect(!watch.hasCapture)
  }

  nonisolated(unsafe) static var generator = SeededGenerator(seed: 1)

  /// A drawing gets probabilities over the classes and the layers' activations.
  @Test func aDrawingIsPredicted() {
    let result = Self.maker.predict(pixels: [Float](repeating: 0.5, count: 144), shape: [1, 12, 12])
    #expect(result.probabilities.count == 10)
    #expect(abs(result.probabilities.reduce(0, +) - 1) < 0.01)
    #expect(result.activations.count == (Self.maker.model as? Sequential)?.layers.count)
  }
}
