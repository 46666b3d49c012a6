import CNNTensor
import Testing

@testable import CNNData

/// `count` random 3 × 4 × 4 images, labels `i % 5`.
private func randomImages(_ count: Int, seed: UInt64) -> Dataset {
  var generator = SeededGenerator(seed: seed)
  return Dataset(
    images: (0..<(count * 48)).map { _ in UInt8(truncatingIfNeeded: generator.next()) },
    labels: (0..<count).map { $0 % 5 }, channels: 3, height: 4, width: 4, classNames: ["a", "b", "c", "d", "e"])
}

@Suite struct BatchLoaderTests {
  let augmentation = AugmentationPipeline([.horizontalFlip, .crop(padding: 1), .brightness(0.3), .contrast(0.3), .scale(0.1)])

  @Test func plainLoaderGivesTheBatchesOfBatches() {
    let dataset = randomImages(23, seed: 1)
    var generator = SeededGenerator(seed: 2)
    let batches = dataset.batches(size: 5, shuffledUsing: &generator)
    let loaded = Array(BatchLoader(batches, prefetch: 2))
    #expect(loaded == Array(batches))
    #expect(loaded.map(\.count) == [5, 5, 5, 5, 3])
  }

  @Test func backgroundLoaderMatchesTheSynchronousPathExactly() {
    let dataset = randomImages(37, seed: 3)
    var generator = SeededGenerator(seed: 4)
    let batches = dataset.batches(size: 4, shuffledUsing: &generator)
    let preparation = BatchPreparation(augmentation: augmentation, normalization: .measured(on: dataset))
    let synchronous = Array(BatchLoader(batches, preparation: preparation, epochSeed: 99, prefetch: 0))
    for prefetch in [1, 2, 5] {
      #expect(Array(BatchLoader(batches, preparation: preparation, epochSeed: 99, prefetch: prefetch)) == synchronous)
    }
    // Every sample once, labels intact, and the augmentation really changed the pixels.
    #expect(synchronous.flatMap(\.labels) == batches.order.map { dataset.labels[$0] })
    let plain = Array(batches)
    #expect(zip(plain, synchronous).allSatisfy { $0.images != $1.images })
    // Another epoch seed, other augmentations.
    #expect(Array(BatchLoader(batches, preparation: preparation, epochSeed: 100, prefetch: 2)) != synchronous)
  }

  @Test func stoppingEarlyEndsTheProducer() {
    let dataset = randomImages(100, seed: 5)
    let batches = dataset.batches(size: 2)
    var loader: BatchLoader? = BatchLoader(batches, preparation: BatchPreparation(augmentation: augmentation), prefetch: 2)
    #expect(loader?.next()?.count == 2)
    loader = nil  // deinit cancels; the producer, blocked on a full queue, returns
    #expect(loader == nil)
  }

  @Test func epochCoverageWithAugmentationAndDropLast() {
    let dataset = randomImages(10, seed: 6)
    var generator = SeededGenerator(seed: 7)
    let batches = dataset.batches(size: 4, shuffledUsing: &generator, dropLast: true)
    let loaded = Array(BatchLoader(batches, preparation: BatchPreparation(augmentation: augmentation), epochSeed: 1))
    #expect(loaded.map(\.count) == [4, 4])
    #expect(Set(batches.order.prefix(8)).count == 8)
  }

  @Test func batchSeedsDifferByEpochAndPosition() {
    let seeds = (0..<3).flatMap { epoch in (0..<50).map { BatchPreparation.batchSeed(epochSeed: UInt64(epoch), position: $0) } }
    #expect(Set(seeds).count == seeds.count)
  }

  @Test func normalizationMeasuresAndAppliesPerChannel() throws {
    // Channel 0 is all 0 or 255 (mean ½, deviation ½); channel 1 is constant 51 (deviation → 1).
    let dataset = Dataset(
      images: [0, 0, 51, 51, 255, 255, 51, 51], labels: [0, 1], channels: 2, height: 1, width: 2, classNames: ["a", "b"])
    let normalization = Normalization.measured(on: dataset)
    #expect(normalization.mean == [0.5, 0.2])
    #expect(normalization.standardDeviation == [0.5, 1])
    var generator = SeededGenerator(seed: 0)
    let batch = dataset.batch(indices: [0, 1], preparation: BatchPreparation(normalization: normalization), using: &generator)
    #expect(batch.images.scalars == [-1, -1, 0, 0, 1, 1, 0, 0])
    #expect(Normalization(parsing: normalization.description) == normalization)
    #expect(Normalization(parsing: "mean=1;std=0") == nil)
  }
}
