import Foundation
import Testing

@testable import CNNData

/// A CIFAR-10 record: `label`, then every pixel of plane `c` equal to `fill + c`.
private func record(label: UInt8, fill: UInt8 = 0) -> [UInt8] {
  [label] + (0..<3).flatMap { c in [UInt8](repeating: fill &+ UInt8(c), count: 1024) }
}

/// The CIFAR-10 sample of `../shared/datasets/cifar10-sample/` (next to the package), if present.
private let sampleDirectory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("shared/datasets/cifar10-sample")
private let exactTrain = sampleDirectory.appendingPathComponent("exact").appendingPathComponent("train_first200.bin").path

@Suite struct CIFAR10Tests {
  @Test func decodesRecordsAsPlanarImages() throws {
    let dataset = try CIFAR10.decode(record(label: 3, fill: 10) + record(label: 9, fill: 200))
    #expect(dataset.count == 2)
    #expect(dataset.labels == [3, 9])
    #expect((dataset.channels, dataset.height, dataset.width) == (3, 32, 32))
    #expect(dataset[0].pixels.first == 10)
    #expect(dataset[0].pixels[dataset[0].pixels.startIndex + 1024] == 11)  // green plane
    #expect(dataset[1].pixels.last == 202)  // blue plane
    #expect(dataset.classNames == CIFAR10.classNames)
  }

  @Test func aFileThatIsNotWholeRecordsIsRefusedWithAHint() {
    let bytes = record(label: 1) + [1, 2, 3]
    let error = datasetError { try CIFAR10.decode(bytes, file: "x.bin") }
    #expect(error == .badRecordSize(file: "x.bin", size: 3076, recordSize: 3073))
    #expect(error?.description.contains("1 records and 3 bytes left over") == true)
    #expect(error?.hint.contains("3073-byte records") == true)
    #expect(datasetError { try CIFAR10.decode([], file: "e.bin") } == .truncated(file: "e.bin", expectedBytes: 3073, actualBytes: 0))
  }

  @Test func labelsMustBeBelowTheClassCount() {
    let bytes = record(label: 2) + record(label: 10)
    #expect(
      datasetError { try CIFAR10.decode(bytes, file: "l.bin") }
        == .labelOutOfRange(file: "l.bin", index: 1, label: 10, classCount: 10))
  }

  @Test func readsADirectoryWithMetaAndSeveralBatches() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    try directory.write("data_batch_2.bin", record(label: 1))
    try directory.write("data_batch_1.bin", record(label: 0) + record(label: 2))
    try directory.write("test_batch.bin", record(label: 2))
    try directory.write("batches.meta.txt", Array("a\nb\nc\n\n".utf8))
    let cifar = try CIFAR10(directory: directory.url)
    #expect(cifar.training.labels == [0, 2, 1])  // data_batch_1 before data_batch_2
    #expect(cifar.test.labels == [2])
    #expect(cifar.training.classNames == ["a", "b", "c"])
    // A label the meta file has no name for.
    try directory.write("test_batch.bin", record(label: 3))
    #expect(datasetError { try CIFAR10(directory: directory.url) }?.description.contains("label 3") == true)
  }

  @Test func missingFilesAndDirectoriesSayWhatToPass() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    try directory.write("test_batch.bin", record(label: 0))
    let error = datasetError { try CIFAR10(directory: directory.url) }
    #expect(error == .formatFilesNotFound(directory: directory.url.path, format: .cifar10, missing: ["data_batch_1.bin … data_batch_5.bin"]))
    #expect(error?.hint.contains("cifar-10-batches-bin") == true)
    let nowhere = directory.url.appendingPathComponent("absent")
    if case .formatFilesNotFound = datasetError({ try CIFAR10(directory: nowhere) }) {} else {
      Issue.record("a missing directory should be formatFilesNotFound")
    }
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: exactTrain), "needs ../shared/datasets/cifar10-sample/exact"))
  func exactSampleMatchesTheReferenceValues() throws {
    let dataset = try CIFAR10.load(contentsOf: URL(fileURLWithPath: exactTrain))
    #expect(dataset.count == 200)
    #expect(Array(dataset.labels.prefix(10)) == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3])
    #expect(Array(dataset[0].pixels.prefix(4)) == [59, 43, 50, 68])
    let first = dataset[0].pixels, start = first.startIndex
    #expect([first[start], first[start + 1024], first[start + 2048]] == [59, 62, 63])
    let mean = Double(dataset.images.reduce(0) { $0 + Int($1) }) / Double(dataset.images.count)
    #expect(abs(mean - 118.5958) < 0.00005)
  }

  @Test(
    .enabled(
      if: FileManager.default.fileExists(atPath: sampleDirectory.appendingPathComponent("data_batch_1.bin").path),
      "needs ../shared/datasets/cifar10-sample"))
  func sampleDirectoryLoads() throws {
    let cifar = try CIFAR10(directory: sampleDirectory)
    #expect(cifar.training.count == 10_000)
    #expect(cifar.test.count == 1_000)
    #expect(Array(cifar.training.labels.prefix(10)) == [9, 9, 0, 8, 3, 9, 3, 7, 6, 6])
    #expect(Array(cifar.test.labels.prefix(10)) == [7, 4, 2, 1, 1, 6, 2, 9, 8, 5])
    #expect(cifar.training.classNames == CIFAR10.classNames)
  }
}
