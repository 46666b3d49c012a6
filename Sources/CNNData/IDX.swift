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
/// it is inflated first, then exactly the data it describes (no more), so a damaged header
/// cannot cause a huge allocation and extra data is found without inflating it.
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
    if let problem = InputFile.problem(at: url.path) { throw DatasetError.unreadableFile(path: url.path, reason: problem) }
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
    return try decodeGzip(bytes, file: file, expectedMagic: expectedMagic)
  }

  /// Inflates the header, checks it, then inflates exactly the data it describes into one
  /// array of that size: decoding stops there, so a file holding more is found out without
  /// inflating the rest, and nothing larger than the header's total is ever allocated.
  static func decodeGzip(_ bytes: [UInt8], file: String, expectedMagic: UInt32?) throws -> IDXArray {
    let inflater = try inflating(file) { () throws(InflateError) in try Inflater(bytes, format: .gzip) }
    var prefix = [UInt8](repeating: 0, count: 4)  // the magic, whose last byte is the rank
    var count = try inflating(file) { () throws(InflateError) in try inflater.read(into: &prefix, from: 0) }
    if count == 4 {
      prefix += repeatElement(0, count: 4 * Int(prefix[3]))
      count += try inflating(file) { () throws(InflateError) in try inflater.read(into: &prefix, from: 4) }
    }
    let header = try Header(Array(prefix[..<count]), file: file, expectedMagic: expectedMagic)
    let bound = Zlib.maxDecompressedCount(compressedCount: bytes.count)
    if header.totalBytes > bound {
      throw DatasetError.implausibleHeader(
        file: file,
        reason: "it claims \(header.dimensionText) = \(header.totalBytes) bytes, but "
          + "\(bytes.count) gzip bytes decompress to at most \(bound) bytes")
    }
    var data = [UInt8](repeating: 0, count: header.totalBytes - header.size)
    let dataCount = try inflating(file) { () throws(InflateError) in try inflater.read(into: &data, from: 0) }
    guard dataCount == data.count else {
      throw DatasetError.truncated(
        file: file, expectedBytes: header.totalBytes, actualBytes: header.size + dataCount)
    }
    if try inflating(file, { () throws(InflateError) in try inflater.hasMoreData() }) {
      throw DatasetError.trailingBytes(file: file, expectedBytes: header.totalBytes, actualBytes: nil)
    }
    return IDXArray(dimensions: header.dimensions, bytes: data)
  }

  /// What `body` returns, an `InflateError` becoming `DatasetError.corruptCompressedData`.
  private static func inflating<T>(_ file: String, _ body: () throws(InflateError) -> T) throws(DatasetError) -> T {
    do {
      return try body()
    } catch {
      throw DatasetError.corruptCompressedData(file: file, reason: error.reason)
    }
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
