/// Decompresses zlib data (RFC 1950) with the DEFLATE decoder in this module; no system zlib.
///
/// A zlib stream is
///
///     CMF  FLG  [DICTID(4)]  DEFLATE data  ADLER32(4)
///
/// with `CMF & 0x0F == 8` (deflate), `(CMF << 8 | FLG) % 31 == 0`, and the Adler-32 of the
/// decompressed data stored big-endian at the end. PNG's `IDAT` chunks hold one such stream.
/// Preset dictionaries (`FDICT`) are rejected: PNG forbids them and nothing here uses them.
public enum Zlib {
  /// Decompresses one zlib stream and checks its Adler-32.
  ///
  /// - Parameters:
  ///   - bytes: The whole stream, header to checksum.
  ///   - file: The name to use in errors.
  ///   - maxOutputBytes: The most output to produce; a stream holding more throws, so a
  ///     hostile file cannot force a huge allocation.
  /// - Returns: The decompressed bytes.
  /// - Throws: `DatasetError.corruptCompressedData` for a bad header, damaged or truncated
  ///   data or a checksum mismatch, and `DatasetError.decompressedSizeExceedsLimit` if the
  ///   output would exceed `maxOutputBytes`.
  public static func decompress(
    _ bytes: [UInt8], file: String = "<memory>", maxOutputBytes: Int = .max
  ) throws(DatasetError) -> [UInt8] {
    let result = bytes.withUnsafeBufferPointer { buffer in
      Result { () throws(InflateError) in try inflate(buffer, limit: maxOutputBytes) }
    }
    switch result {
    case .success(let output): return output
    case .failure(.outputLimitReached):
      throw DatasetError.decompressedSizeExceedsLimit(file: file, limit: maxOutputBytes)
    case .failure(let error):
      throw DatasetError.corruptCompressedData(file: file, reason: error.reason)
    }
  }

  /// The Adler-32 checksum of `bytes` (RFC 1950 §8.2), continuing from `adler`.
  public static func adler32(_ bytes: UnsafeBufferPointer<UInt8>, continuing adler: UInt32 = 1) -> UInt32 {
    var a = adler & 0xFFFF, b = adler >> 16
    var i = 0
    while i < bytes.count {
      // 5552 is the most bytes that cannot overflow 32 bits before the modulo (zlib's NMAX).
      let end = min(bytes.count, i + 5552)
      while i < end {
        a &+= UInt32(bytes[i])
        b &+= a
        i += 1
      }
      a %= 65521
      b %= 65521
    }
    return b << 16 | a
  }

  /// The CRC-32 of `bytes` as gzip and PNG chunks use it (ISO 3309, RFC 1952 §8).
  public static func crc32(_ bytes: UnsafeBufferPointer<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
    CRC32.checksum(bytes, continuing: crc)
  }

  /// Checks the header, inflates, and checks the trailer.
  static func inflate(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) throws(InflateError) -> [UInt8] {
    guard bytes.count >= 2 else { throw .truncated }
    let cmf = bytes[0], flg = bytes[1]
    guard cmf & 0x0F == 8 else {
      throw .corrupt("zlib compression method \(cmf & 0x0F) is not 8 (deflate)")
    }
    guard cmf >> 4 <= 7 else { throw .corrupt("zlib window size 2^\(8 + Int(cmf >> 4)) exceeds 32 KB") }
    guard (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else {
      throw .corrupt("zlib header check bits are wrong (CMF \(hex(UInt32(cmf), digits: 2)), FLG \(hex(UInt32(flg), digits: 2)))")
    }
    guard flg & 0x20 == 0 else { throw .corrupt("zlib preset dictionaries are not supported") }
    var inflater = Inflater(input: bytes, limit: limit, capacityHint: bytes.count * 4)
    do throws(InflateError) {
      try inflater.inflate(from: 2)
    } catch {
      inflater.deallocate()
      throw error
    }
    let end = inflater.position
    guard bytes.count - end >= 4 else {
      inflater.deallocate()
      throw .truncated
    }
    let stored = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[end + $1]) }
    let computed = adler32(UnsafeBufferPointer(start: inflater.output, count: inflater.outputCount))
    guard stored == computed else {
      inflater.deallocate()
      throw .corrupt("Adler-32 mismatch: the trailer says \(hex(stored)), the data gives \(hex(computed))")
    }
    return inflater.takeOutput()
  }
}
