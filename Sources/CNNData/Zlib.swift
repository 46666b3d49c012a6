import CZlib

/// zlib streams (RFC 1950) and the CRC-32 and Adler-32 checksums, from the system zlib.
///
/// A zlib stream is
///
///     CMF  FLG  [DICTID(4)]  DEFLATE data  ADLER32(4, big-endian)
///
/// with `CMF & 0x0F == 8` (deflate) and `(CMF << 8 | FLG) % 31 == 0`. PNG's `IDAT` chunks
/// hold one such stream; ``Gzip`` holds the gzip reader the IDX files use.
public enum Zlib {
  /// Decompresses one zlib stream and checks its Adler-32; bytes after the stream are ignored.
  ///
  /// - Parameters:
  ///   - bytes: The whole stream, header to checksum.
  ///   - file: The name to use in errors.
  ///   - maxOutputBytes: The most output to produce; a stream holding more throws, so a
  ///     hostile file cannot force a huge allocation.
  ///   - expectedBytes: The size the caller expects (a PNG's filtered rows): that much is
  ///     allocated at once, clamped to `maxOutputBytes` and to what `bytes` can hold
  ///     (``maxDecompressedCount(compressedCount:)``). The result may still be shorter.
  /// - Returns: The decompressed bytes.
  /// - Throws: `DatasetError.corruptCompressedData` for a bad header, damaged or truncated
  ///   data or a checksum mismatch, and `DatasetError.decompressedSizeExceedsLimit` if the
  ///   output would exceed `maxOutputBytes`.
  public static func decompress(
    _ bytes: [UInt8], file: String = "<memory>", maxOutputBytes: Int = .max, expectedBytes: Int? = nil
  ) throws(DatasetError) -> [UInt8] {
    let (output, reachedLimit) = try decompress(
      bytes, format: .zlib, file: file, limit: maxOutputBytes,
      sizeHint: expectedBytes ?? 4 * bytes.count)
    if reachedLimit {
      throw DatasetError.decompressedSizeExceedsLimit(file: file, limit: maxOutputBytes)
    }
    return output
  }

  /// How zlib's compressor searches for matches.
  public enum Strategy: Sendable {
    /// zlib's default, for general data.
    case `default`
    /// Fewer short matches, more Huffman coding: for the output of a filter or predictor,
    /// such as PNG's filtered rows (libpng's default for them; 2–4 % smaller on photographs).
    case filtered

    var code: Int32 { self == .filtered ? Z_FILTERED : Z_DEFAULT_STRATEGY }
  }

  /// `data` as a zlib stream, compressed by zlib.
  ///
  /// - Parameters:
  ///   - data: The bytes to compress.
  ///   - level: 0 (stored, no compression) to 9 (smallest, slowest); zlib's default is 6.
  ///   - strategy: How to search for matches.
  /// - Returns: Header `78 xx`, DEFLATE data, Adler-32; at most `deflateBound(count)` bytes.
  public static func compress(_ data: [UInt8], level: Int = 6, strategy: Strategy = .default) -> [UInt8] {
    precondition((0...9).contains(level), "zlib compression levels are 0...9, got \(level)")
    var stream = z_stream()
    return withUnsafeMutablePointer(to: &stream) { stream in
      // Only memory can fail here: the level is checked and the rest are zlib's defaults.
      let status = cnnkit_deflateInit(stream, Int32(level), strategy.code)
      precondition(status == Z_OK, "zlib deflateInit2 failed with status \(status)")
      defer { deflateEnd(stream) }
      var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(data.count))))
      var (read, written) = (0, 0)
      data.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target in
          var status = Z_OK
          while status == Z_OK {  // one pass unless there are more than 4 GiB (uInt) of data
            let availableIn = min(source.count - read, Int(UInt32.max))
            let availableOut = min(target.count - written, Int(UInt32.max))
            stream.pointee.next_in = source.baseAddress.map { UnsafeMutablePointer(mutating: $0 + read) }
            stream.pointee.avail_in = UInt32(availableIn)
            stream.pointee.next_out = target.baseAddress.map { $0 + written }
            stream.pointee.avail_out = UInt32(availableOut)
            status = deflate(stream, read + availableIn == source.count ? Z_FINISH : Z_NO_FLUSH)
            read += availableIn - Int(stream.pointee.avail_in)
            written += availableOut - Int(stream.pointee.avail_out)
          }
          // deflateBound leaves room for everything, so the stream always ends.
          precondition(status == Z_STREAM_END, "zlib deflate failed with status \(status)")
        }
      }
      output.removeSubrange(written...)
      return output
    }
  }

  /// The CRC-32 of `bytes` as gzip and PNG chunks use it (ISO 3309, RFC 1952 §8),
  /// continuing from `crc` (the CRC of the bytes before them).
  public static func crc32(_ bytes: UnsafeBufferPointer<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
    guard !bytes.isEmpty else { return crc }  // zlib answers 0 for a null pointer
    return UInt32(truncatingIfNeeded: crc32_z(UInt(crc), bytes.baseAddress, bytes.count))
  }

  /// The CRC-32 of `bytes`, continuing from `crc`.
  public static func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBufferPointer { crc32($0, continuing: crc) }
  }

  /// The Adler-32 checksum of `bytes` (RFC 1950 §8.2), continuing from `adler`.
  public static func adler32(_ bytes: UnsafeBufferPointer<UInt8>, continuing adler: UInt32 = 1) -> UInt32 {
    guard !bytes.isEmpty else { return adler }  // zlib answers 1 for a null pointer
    return UInt32(truncatingIfNeeded: adler32_z(UInt(adler), bytes.baseAddress, bytes.count))
  }

  /// The Adler-32 checksum of `bytes`, continuing from `adler`.
  public static func adler32(_ bytes: [UInt8], continuing adler: UInt32 = 1) -> UInt32 {
    bytes.withUnsafeBufferPointer { adler32($0, continuing: adler) }
  }

  /// The most bytes `compressedCount` bytes of DEFLATE data can decompress to: 1032 per byte
  /// (a 258-byte match coded in 2 bits) plus 1 KB, saturating. A header claiming more is wrong.
  public static func maxDecompressedCount(compressedCount: Int) -> Int {
    let (product, overflow) = compressedCount.multipliedReportingOverflow(by: 1032)
    return overflow || product > Int.max - 1024 ? .max : product + 1024
  }

  /// Decompresses at most `limit` bytes of a zlib or gzip stream. `reachedLimit` says the data
  /// holds more (in which case the rest, and its checksum, are not read). The first allocation
  /// is `sizeHint` bytes clamped to `limit` and to what `bytes` can hold; it doubles from there.
  static func decompress(
    _ bytes: [UInt8], format: Inflater.Format, file: String, limit: Int, sizeHint: Int
  ) throws(DatasetError) -> (bytes: [UInt8], reachedLimit: Bool) {
    let limit = max(0, limit)
    do throws(InflateError) {
      let inflater = try Inflater(bytes, format: format)
      let most = min(limit, maxDecompressedCount(compressedCount: bytes.count))
      var output = [UInt8](repeating: 0, count: min(max(sizeHint, 1 << 12), most))
      var count = 0
      while true {
        count += try inflater.read(into: &output, from: count)
        if inflater.isAtEnd || count == limit { break }
        output += repeatElement(0, count: min(max(output.count, 1 << 12), limit - output.count))
      }
      output.removeSubrange(count...)
      let reachedLimit = inflater.isAtEnd ? false : try inflater.hasMoreData()
      return (output, reachedLimit)
    } catch {
      throw DatasetError.corruptCompressedData(file: file, reason: error.reason)
    }
  }
}
