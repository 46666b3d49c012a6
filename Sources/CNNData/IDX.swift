import Foundation

/// An array read from an IDX file: unsigned bytes and their dimensions, outermost first.
public struct IDXArray: Sendable, Equatable {
  /// The size of each dimension, e.g. `[count, rows, columns]` for MNIST images.
  public var dimensions: [Int]
  /// The elements in row-major order; `bytes.count` is the product of `dimensions`.
  public var bytes: [UInt8]

  /// The magic number of a file holding this array: `0x0000_08` then the dimension count.
  public var magic: UInt32 { 0x0800 | UInt32(dimensions.count) }
}

/// Reads the IDX format of the MNIST files (LeCun et al.), plain or gzip-compressed.
///
/// Layout, all integers big-endian:
///
///     00 00 TT NN   magic: two zero bytes, type TT (0x08 = unsigned byte), NN dimensions
///     D1 … DN       NN sizes, 4 bytes each
///     data          D1·…·DN bytes, row-major
///
/// MNIST images are `0x00000803` (count × rows × columns) and labels `0x00000801` (count).
/// Gzip is recognised by its magic bytes, not by the file name. The header is checked before
/// anything large is allocated: the size it claims must match the data exactly, and for gzip
/// decompression stops at that size, so a damaged header cannot cause a huge allocation.
public enum IDX {
  /// The magic number of an MNIST images file (unsigned bytes, 3 dimensions).
  public static let imagesMagic: UInt32 = 0x0000_0803
  /// The magic number of an MNIST labels file (unsigned bytes, 1 dimension).
  public static let labelsMagic: UInt32 = 0x0000_0801

  /// Reads an IDX file, plain or gzip.
  ///
  /// - Parameters:
  ///   - url: The file.
  ///   - expectedMagic: If given, the magic number the file must have (``imagesMagic``, …).
  /// - Throws: `DatasetError` naming the file and the fix.
  public static func read(contentsOf url: URL, expectedMagic: UInt32? = nil) throws -> IDXArray {
    try decode(readFile(url), file: url.path, expectedMagic: expectedMagic)
  }

  /// The bytes of a file, or `DatasetError.fileNotFound` / `.unreadableFile`.
  static func readFile(_ url: URL) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw DatasetError.fileNotFound(path: url.path, triedPaths: [url.path])
    }
    do {
      return [UInt8](try Data(contentsOf: url, options: .mappedIfSafe))
    } catch {
      throw DatasetError.unreadableFile(path: url.path, reason: "\(error.localizedDescription)")
    }
  }

  /// Decodes the bytes of an IDX file, plain or gzip.
  ///
  /// - Parameters:
  ///   - bytes: The whole file.
  ///   - file: The name to use in errors.
  ///   - expectedMagic: If given, the magic number the data must have.
  /// - Throws: `DatasetError`: `.badMagic`, `.unsupportedDataType`, `.truncated`,
  ///   `.trailingBytes`, `.implausibleHeader` or `.corruptCompressedData`.
  public static func decode(
    _ bytes: [UInt8], file: String = "<memory>", expectedMagic: UInt32? = nil
  ) throws -> IDXArray {
    guard Gzip.hasMagic(bytes) else {
      let header = try Header(bytes, file: file, expectedMagic: expectedMagic)
      guard bytes.count == header.totalBytes else {
        if bytes.count < header.totalBytes {
          throw DatasetError.truncated(
            file: file, expectedBytes: header.totalBytes, actualBytes: bytes.count)
        }
        throw DatasetError.trailingBytes(
          file: file, expectedBytes: header.totalBytes, actualBytes: bytes.count)
      }
      return IDXArray(dimensions: header.dimensions, bytes: Array(bytes[header.size...]))
    }
    // The longest possible header (255 dimensions) first, then exactly what it describes.
    let prefix = try Gzip.decompress(bytes, file: file, limit: 4 + 4 * 255).bytes
    let header = try Header(prefix, file: file, expectedMagic: expectedMagic)
    let (bound, overflow) = bytes.count.multipliedReportingOverflow(by: 1032)
    if !overflow && header.totalBytes > bound + 1024 {
      throw DatasetError.implausibleHeader(
        file: file,
        reason: "it claims \(header.dimensionText) = \(header.totalBytes) bytes, but "
          + "\(bytes.count) gzip bytes decompress to at most about \(bound) bytes")
    }
    var (data, reachedLimit) = try Gzip.decompress(bytes, file: file, limit: header.totalBytes)
    if reachedLimit {
      throw DatasetError.trailingBytes(
        file: file, expectedBytes: header.totalBytes, actualBytes: nil)
    }
    guard data.count == header.totalBytes else {
      throw DatasetError.truncated(
        file: file, expectedBytes: header.totalBytes, actualBytes: data.count)
    }
    data.removeFirst(header.size)
    return IDXArray(dimensions: header.dimensions, bytes: data)
  }

  /// A validated IDX header.
  struct Header {
    /// The dimension sizes.
    var dimensions: [Int]
    /// The header's length in bytes: `4 + 4 · dimensions.count`.
    var size: Int
    /// Header plus data, in bytes.
    var totalBytes: Int

    /// `"1000000000 × 28 × 28"`.
    var dimensionText: String { dimensions.map(String.init).joined(separator: " × ") }

    /// Parses and checks the header at the start of `bytes` (which may be just a prefix).
    init(_ bytes: [UInt8], file: String, expectedMagic: UInt32?) throws {
      guard bytes.count >= 4 else {
        throw DatasetError.truncated(file: file, expectedBytes: 4, actualBytes: bytes.count)
      }
      let magic = IDX.bigEndian32(bytes, at: 0)
      guard magic >> 16 == 0 else {
        if let expected = expectedMagic {
          throw DatasetError.badMagic(expected: expected, found: magic, file: file)
        }
        throw DatasetError.implausibleHeader(
          file: file, reason: "magic 0x\(hex(magic)) does not start with two zero bytes, "
            + "so this is not an IDX file")
      }
      guard bytes[2] == 0x08 else {
        throw DatasetError.unsupportedDataType(file: file, code: bytes[2])
      }
      if let expected = expectedMagic, magic != expected {
        throw DatasetError.badMagic(expected: expected, found: magic, file: file)
      }
      let rank = Int(bytes[3])
      guard rank > 0 else {
        throw DatasetError.implausibleHeader(file: file, reason: "it has zero dimensions")
      }
      size = 4 + 4 * rank
      guard bytes.count >= size else {
        throw DatasetError.truncated(file: file, expectedBytes: size, actualBytes: bytes.count)
      }
      dimensions = (0..<rank).map { Int(IDX.bigEndian32(bytes, at: 4 + 4 * $0)) }
      var total = size
      var product = 1
      for dimension in dimensions {
        let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
        guard !overflow, next <= Int.max - size else {
          throw DatasetError.implausibleHeader(
            file: file, reason: "its dimensions \(dimensions) overflow a 64-bit size")
        }
        product = next
      }
      total += product
      totalBytes = total
    }
  }

  /// The big-endian `UInt32` at `offset`; the caller checked that 4 bytes are there.
  static func bigEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[offset + $1]) }
  }
}
