import Foundation
import Testing

@testable import CNNData

/// The committed gzip fixtures (see `Fixtures/make-fixtures.py`).
enum Fixtures {
  struct Missing: Error { var name: String }

  static func bytes(_ name: String) throws -> [UInt8] {
    guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
      throw Missing(name: "Fixtures")
    }
    return [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
  }
}

/// The error `body` throws, if it is a `DatasetError`.
func datasetError(_ body: () throws -> Any) -> DatasetError? {
  do {
    _ = try body()
    return nil
  } catch let error as DatasetError {
    return error
  } catch {
    return nil
  }
}

/// `value` as four big-endian bytes.
func bigEndian(_ value: UInt32) -> [UInt8] {
  (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
}

/// `value` as four little-endian bytes.
func littleEndian(_ value: UInt32) -> [UInt8] {
  (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// An IDX file: magic, the dimensions, then `data` (not checked against them).
func idxFile(magic: UInt32, dimensions: [Int], data: [UInt8]) -> [UInt8] {
  bigEndian(magic) + dimensions.flatMap { bigEndian(UInt32($0)) } + data
}

/// An MNIST-style images file of `count` images of `height × width`, pixel `(i, j)` of image
/// `n` being `(n + j) % 256`.
func imagesFile(count: Int, height: Int = 2, width: Int = 3) -> [UInt8] {
  let data = (0..<(count * height * width)).map {
    UInt8(truncatingIfNeeded: $0 / (height * width) + $0 % width)
  }
  return idxFile(magic: IDX.imagesMagic, dimensions: [count, height, width], data: data)
}

/// An MNIST-style labels file.
func labelsFile(_ labels: [UInt8]) -> [UInt8] {
  idxFile(magic: IDX.labelsMagic, dimensions: [labels.count], data: labels)
}

/// A gzip file of stored (uncompressed) DEFLATE blocks, so tests can place every byte.
func storedGzip(_ data: [UInt8], blockSize: Int = 1000) -> [UInt8] {
  var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
  var start = 0
  repeat {
    let end = min(start + blockSize, data.count)
    let length = UInt16(end - start)
    out.append(end == data.count ? 1 : 0)  // BFINAL, BTYPE 00, padded to the byte
    out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
    out += data[start..<end]
    start = end
  } while start < data.count
  return out + littleEndian(Zlib.crc32(data)) + littleEndian(UInt32(truncatingIfNeeded: data.count))
}

/// A one-member gzip file compressed by zlib: the zlib stream's DEFLATE data between a plain
/// 10-byte gzip header and the CRC-32 and size trailer.
func gzip(_ data: [UInt8], level: Int = 6) -> [UInt8] {
  let deflate = Zlib.compress(data, level: level).dropFirst(2).dropLast(4)
  return [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3] + deflate + littleEndian(Zlib.crc32(data))
    + littleEndian(UInt32(truncatingIfNeeded: data.count))
}

/// A raw DEFLATE stream in a zlib wrapper (`78 01`, the data, the Adler-32 of `output`).
func zlibStream(deflate: [UInt8], output: [UInt8]) -> [UInt8] {
  [0x78, 0x01] + deflate + bigEndian(Zlib.adler32(output))
}

/// Writes DEFLATE bits: values least significant bit first, Huffman codes most significant first.
struct BitWriter {
  var bytes: [UInt8] = []
  var bitCount = 0

  mutating func write(_ value: Int, bits: Int) {
    for i in 0..<bits {
      if bitCount % 8 == 0 { bytes.append(0) }
      bytes[bytes.count - 1] |= UInt8((value >> i) & 1) << (bitCount % 8)
      bitCount += 1
    }
  }

  mutating func writeCode(_ code: Int, length: Int) {
    for i in stride(from: length - 1, through: 0, by: -1) { write((code >> i) & 1, bits: 1) }
  }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory
      .appendingPathComponent("CNNDataTests-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> URL {
    let file = url.appendingPathComponent(name)
    try Data(bytes).write(to: file)
    return file
  }

  func remove() { try? FileManager.default.removeItem(at: url) }
}
