import Foundation
import Testing

@testable import CNNData

/// The mean pixel value over a dataset.
private func meanPixel(_ dataset: Dataset) -> Double {
  Double(dataset.images.reduce(0) { $0 + Int($1) }) / Double(dataset.images.count)
}

@Suite struct MNISTTests {
  @Test func bundledFilesDecompressToTheReferenceSizes() throws {
    let folder = try #require(MNIST.bundledSampleDirectory)
    let sizes = [
      "train-images-idx3-ubyte.gz": 3_136_016, "train-labels-idx1-ubyte.gz": 4_008,
      "t10k-images-idx3-ubyte.gz": 784_016, "t10k-labels-idx1-ubyte.gz": 1_008,
    ]
    for (name, size) in sizes {
      let gz = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
      #expect(try Gzip.decompress(gz, file: name).count == size, "\(name)")
    }
  }

  @Test func bundledSampleMatchesReferenceValues() throws {
    let mnist = try MNIST.bundledSample()
    let (training, test) = (mnist.training, mnist.test)
    #expect(training.count == 4000 && test.count == 1000)
    #expect(training.channels == 1 && training.height == 28 && training.width == 28)
    #expect(training.classNames == MNIST.digitClassNames && training.classCount == 10)
    #expect(Array(training.labels.prefix(10)) == [5, 4, 7, 5, 7, 0, 7, 9, 2, 0])
    #expect(Array(test.labels.prefix(10)) == [3, 9, 0, 9, 7, 7, 8, 8, 9, 6])
    let first = training[0].pixels
    #expect(first.reduce(0) { $0 + Int($1) } == 25_274)
    #expect(first.filter { $0 != 0 }.count == 138)
    let firstTest = test[0].pixels
    #expect(firstTest.reduce(0) { $0 + Int($1) } == 32_243)
    #expect(firstTest.filter { $0 != 0 }.count == 174)
    #expect(abs(meanPixel(training) - 33.3693) < 5e-5)
    #expect(abs(meanPixel(test) - 33.9554) < 5e-5)
    for digit in 0..<10 {
      #expect(training.labels.filter { $0 == digit }.count == 400)
      #expect(test.labels.filter { $0 == digit }.count == 100)
    }
  }

  @Test func readsADirectoryOfMixedPlainGzipAndDottedNames() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    try directory.write("train-images-idx3-ubyte.gz", storedGzip(imagesFile(count: 5)))
    try directory.write("train-labels-idx1-ubyte", labelsFile([0, 1, 2, 9, 4]))
    try directory.write("t10k-images.idx3-ubyte", imagesFile(count: 2))
    try directory.write("t10k-labels.idx1-ubyte.gz", storedGzip(labelsFile([7, 8])))
    let mnist = try MNIST(directory: directory.url, classNames: MNIST.fashionClassNames)
    #expect(mnist.training.count == 5 && mnist.test.count == 2)
    #expect(mnist.training.labels == [0, 1, 2, 9, 4] && mnist.test.labels == [7, 8])
    #expect(mnist.training.height == 2 && mnist.training.width == 3)
    #expect(mnist.test.classNames[8] == "Bag")
    #expect(Array(mnist.training[1].pixels) == [1, 2, 3, 1, 2, 3])
  }

  @Test func missingDirectoryHintsWhereToGetData() {
    let error = datasetError { try MNIST(directory: URL(fileURLWithPath: "/nonexistent/mnist")) }
    #expect(error == .directoryNotFound(path: "/nonexistent/mnist"))
    #expect(error?.hint.contains("--data-dir DIR") == true)
    #expect(error?.hint.contains("apt-get install -y dataset-fashion-mnist") == true)
    #expect(error?.hint.contains("/usr/share/datasets/fashion-mnist") == true)
  }

  @Test func missingFileListsWhatWasLookedFor() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    try directory.write("train-images-idx3-ubyte", imagesFile(count: 1))
    try directory.write("train-labels-idx1-ubyte", labelsFile([1]))
    try directory.write("t10k-labels-idx1-ubyte", labelsFile([1]))
    let error = datasetError { try MNIST(directory: directory.url) }
    guard case .fileNotFound(let path, let tried) = error else {
      Issue.record("expected fileNotFound, got \(String(describing: error))")
      return
    }
    #expect(path.hasSuffix("t10k-images-idx3-ubyte"))
    #expect(tried == [
      "t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz",
      "t10k-images.idx3-ubyte", "t10k-images.idx3-ubyte.gz",
    ])
    #expect(error?.description.contains("t10k-images-idx3-ubyte.gz") == true)
    #expect(error?.hint.contains("--data-dir") == true)
  }

  @Test func countMismatchNamesBothFiles() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let images = try directory.write("images", imagesFile(count: 3))
    let labels = try directory.write("labels", labelsFile([1, 2]))
    let error = datasetError {
      try MNIST.load(images: images, labels: labels, classNames: MNIST.digitClassNames)
    }
    #expect(
      error == .countMismatch(
        imagesFile: images.path, imageCount: 3, labelsFile: labels.path, labelCount: 2))
    #expect(error?.hint.contains("pair each images file with the labels file") == true)
  }

  @Test func labelsMustBeBelowTheClassCount() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let images = try directory.write("images", imagesFile(count: 3))
    let labels = try directory.write("labels", labelsFile([1, 10, 2]))
    let error = datasetError {
      try MNIST.load(images: images, labels: labels, classNames: MNIST.digitClassNames)
    }
    #expect(error == .labelOutOfRange(file: labels.path, index: 1, label: 10, classCount: 10))
    #expect(error?.hint.contains("classNames") == true)
  }

  static let fashionInstalled = FileManager.default.fileExists(
    atPath: MNIST.fashionDirectory.appendingPathComponent("t10k-images-idx3-ubyte.gz").path)

  /// Fashion-MNIST's test split and training labels (the 47 MB training images are slow to
  /// inflate in a debug build, so they are checked only in optimized builds).
  @Test(.enabled(if: fashionInstalled, "Fashion-MNIST is not installed"))
  func fashionMNISTMatchesReferenceValues() throws {
    let directory = MNIST.fashionDirectory
    let test = try MNIST.load(
      images: directory.appendingPathComponent("t10k-images-idx3-ubyte.gz"),
      labels: directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"),
      classNames: MNIST.fashionClassNames)
    #expect(test.count == 10_000)
    #expect(Array(test.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
    #expect(abs(meanPixel(test) - 73.1466) < 5e-5)
    let labels = try IDX.read(
      contentsOf: directory.appendingPathComponent("train-labels-idx1-ubyte.gz"),
      expectedMagic: IDX.labelsMagic)
    #expect(labels.dimensions == [60_000])
    #expect(Array(labels.bytes.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    #if !DEBUG
      let fashion = try MNIST.fashion()
      #expect(fashion.training.count == 60_000)
      #expect(abs(meanPixel(fashion.training) - 72.9404) < 5e-5)
    #endif
  }
}
