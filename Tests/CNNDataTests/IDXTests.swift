import Foundation
import Testing

@testable import CNNData

@Suite struct IDXTests {
  @Test func decodesPlainAndGzipAlike() throws {
    let file = imagesFile(count: 3)
    let plain = try IDX.decode(file, expectedMagic: IDX.imagesMagic)
    #expect(plain.dimensions == [3, 2, 3])
    #expect(plain.bytes == Array(file[16...]))
    #expect(plain.magic == IDX.imagesMagic)
    #expect(try IDX.decode(storedGzip(file, blockSize: 7)) == plain)
    #expect(try IDX.decode(gzip(file)) == plain)
    let labels = try IDX.decode(labelsFile([1, 2, 3]), expectedMagic: IDX.labelsMagic)
    #expect(labels.dimensions == [3] && labels.bytes == [1, 2, 3])
  }

  @Test func detectsGzipByMagicNotByName() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let file = imagesFile(count: 4)
    let gzipNamedPlain = try directory.write("images-idx3-ubyte", storedGzip(file))
    let plainNamedGzip = try directory.write("images-idx3-ubyte.gz", file)
    let a = try IDX.read(contentsOf: gzipNamedPlain, expectedMagic: IDX.imagesMagic)
    let b = try IDX.read(contentsOf: plainNamedGzip, expectedMagic: IDX.imagesMagic)
    #expect(a == b && a.dimensions == [4, 2, 3])
  }

  @Test func labelsPassedAsImagesSaysSo() throws {
    let error = datasetError {
      try IDX.decode(
        labelsFile([0, 1]), file: "train-labels-idx1-ubyte", expectedMagic: IDX.imagesMagic)
    }
    #expect(error == .badMagic(expected: 2051, found: 2049, file: "train-labels-idx1-ubyte"))
    #expect(error?.hint.contains("labels file") == true)
    #expect(error?.hint.contains("pass the images file") == true)
    #expect(error?.description.contains("train-labels-idx1-ubyte") == true)
    #expect(error?.description.contains("---> HINT:") == true)

    let reverse = datasetError {
      try IDX.decode(imagesFile(count: 1), expectedMagic: IDX.labelsMagic)
    }
    #expect(reverse?.hint.contains("pass the labels file") == true)
  }

  @Test func otherMagicProblemsHaveHints() {
    let text = Array("hello, this is not IDX".utf8)
    let notIDX = datasetError { try IDX.decode(text, expectedMagic: IDX.imagesMagic) }
    #expect(notIDX?.hint.contains("not an IDX file") == true)

    let swapped = idxFile(magic: IDX.imagesMagic.byteSwapped, dimensions: [], data: [])
    let littleEndian = datasetError { try IDX.decode(swapped, expectedMagic: IDX.imagesMagic) }
    #expect(littleEndian?.hint.contains("big-endian") == true)

    let floats = idxFile(magic: 0x0000_0D01, dimensions: [1], data: [0, 0, 0, 0])
    let type = datasetError { try IDX.decode(floats) }
    #expect(type == .unsupportedDataType(file: "<memory>", code: 0x0D))
    #expect(type?.hint.contains("0x08") == true)
  }

  @Test func truncatedFilesAreReported() throws {
    let file = imagesFile(count: 3)
    let error = datasetError { try IDX.decode(Array(file.dropLast(5)), file: "t") }
    #expect(error == .truncated(file: "t", expectedBytes: file.count, actualBytes: file.count - 5))
    #expect(error?.hint.contains("download it again") == true)

    let shortHeader = datasetError { try IDX.decode(Array(file.prefix(9))) }
    #expect(shortHeader == .truncated(file: "<memory>", expectedBytes: 16, actualBytes: 9))
    let tiny = datasetError { try IDX.decode([0, 0]) }
    #expect(tiny == .truncated(file: "<memory>", expectedBytes: 4, actualBytes: 2))

    // A complete, valid gzip file whose content is short.
    let gzip = datasetError { try IDX.decode(storedGzip(Array(file.dropLast(1))), file: "t.gz") }
    #expect(
      gzip == .truncated(file: "t.gz", expectedBytes: file.count, actualBytes: file.count - 1))
  }

  @Test func trailingBytesAreReported() {
    let file = imagesFile(count: 2) + [9, 9, 9]
    let plain = datasetError { try IDX.decode(file, file: "p") }
    #expect(
      plain == .trailingBytes(file: "p", expectedBytes: file.count - 3, actualBytes: file.count))
    #expect(plain?.hint.contains("more data than its header describes") == true)
    let gzip = datasetError { try IDX.decode(storedGzip(file), file: "g") }
    #expect(gzip == .trailingBytes(file: "g", expectedBytes: file.count - 3, actualBytes: nil))
  }

  /// Decoding stops at the size the header declares: what follows is never inflated, so
  /// damage there (here a wrong CRC-32) goes unseen and the error is the extra data.
  @Test func gzipHoldingMoreThanItsHeaderStopsAtTheDeclaredSize() throws {
    let file = imagesFile(count: 2)
    var gz = storedGzip(file + [UInt8](repeating: 5, count: 100_000))
    gz[gz.count - 8] ^= 0xFF  // the CRC-32: checked only if everything is inflated
    #expect(datasetError { try IDX.decode(gz, file: "m.gz") } == .trailingBytes(file: "m.gz", expectedBytes: file.count, actualBytes: nil))
    // The same damage in a file of the declared size is found.
    var exact = storedGzip(file)
    exact[exact.count - 8] ^= 0xFF
    guard case .corruptCompressedData(_, let reason) = datasetError({ try IDX.decode(exact) }) else {
      Issue.record("expected corruptCompressedData")
      return
    }
    #expect(reason.contains("CRC-32 mismatch"))
  }

  @Test func truncatedGzipIsReported() {
    let gz = gzip(imagesFile(count: 50, height: 28, width: 28), level: 1)
    for length in [5, 12, gz.count / 2, gz.count - 5] {
      let error = datasetError { try IDX.decode(Array(gz[..<length]), file: "t.gz") }
      #expect(error == .corruptCompressedData(file: "t.gz", reason: InflateError.truncated.reason), "cut at \(length)")
    }
  }

  /// A header claiming 10⁹ images must fail fast, without allocating 784 GB.
  @Test func implausibleHeadersFailBeforeAllocating() {
    let huge = idxFile(magic: IDX.imagesMagic, dimensions: [1_000_000_000, 28, 28], data: [1, 2, 3])
    let plain = datasetError { try IDX.decode(huge, file: "h", expectedMagic: IDX.imagesMagic) }
    #expect(plain == .truncated(file: "h", expectedBytes: 784_000_000_016, actualBytes: 19))
    #expect(plain?.hint.contains("header is damaged") == true)

    let gzip = datasetError { try IDX.decode(storedGzip(huge), file: "h.gz") }
    guard case .implausibleHeader(let file, let reason) = gzip else {
      Issue.record("expected implausibleHeader, got \(String(describing: gzip))")
      return
    }
    #expect(file == "h.gz")
    #expect(reason.contains("1000000000 × 28 × 28"))
    #expect(gzip?.hint.contains("header is damaged") == true)

    let overflow = idxFile(magic: 0x0000_0804, dimensions: [1 << 31, 1 << 31, 1 << 31, 4], data: [])
    let tooBig = datasetError { try IDX.decode(overflow) }
    guard case .implausibleHeader = tooBig else {
      Issue.record("expected implausibleHeader, got \(String(describing: tooBig))")
      return
    }
    let noDimensions = datasetError { try IDX.decode([0, 0, 8, 0]) }
    #expect(noDimensions == .implausibleHeader(file: "<memory>", reason: "it has zero dimensions"))
  }

  @Test func corruptGzipIsReported() {
    var gz = storedGzip(imagesFile(count: 3))
    gz[30] ^= 0x10  // a data byte: the CRC-32 catches it
    let error = datasetError { try IDX.decode(gz, file: "c.gz") }
    guard case .corruptCompressedData(let file, let reason) = error else {
      Issue.record("expected corruptCompressedData, got \(String(describing: error))")
      return
    }
    #expect(file == "c.gz" && reason.contains("CRC-32 mismatch"))
    #expect(error?.hint.contains("gzip -t") == true)
  }

  @Test func missingFileIsReported() {
    let url = URL(fileURLWithPath: "/nonexistent/train-images-idx3-ubyte")
    let error = datasetError { try IDX.read(contentsOf: url) }
    #expect(error == .fileNotFound(path: url.path, triedPaths: [url.path]))
    #expect(error?.hint.contains("--data-dir") == true)
  }
}
