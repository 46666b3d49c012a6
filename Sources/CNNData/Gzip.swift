/// Decompresses gzip data (RFC 1952) with the system zlib (see ``Inflater``).
///
/// A gzip file is one or more members, each:
///
///     1F 8B  08  FLG  MTIME(4)  XFL  OS  [FEXTRA: XLEN(2) + XLEN bytes]  [FNAME: …\0]
///     [FCOMMENT: …\0]  [FHCRC: CRC16(2)]  DEFLATE data  CRC32(4)  ISIZE(4)
///
/// Integers are little-endian. The header CRC (if present), the CRC-32 of each member's data
/// and its size modulo 2³² are all verified. Members are decoded back to back into one output,
/// as `gunzip` does; zero bytes after the last member (tape padding) are ignored.
public enum Gzip {
  /// Whether `bytes` starts with the gzip magic number `1F 8B`.
  public static func hasMagic(_ bytes: some Collection<UInt8>) -> Bool {
    var iterator = bytes.makeIterator()
    return iterator.next() == 0x1F && iterator.next() == 0x8B
  }

  /// Decompresses gzip data.
  ///
  /// - Parameters:
  ///   - bytes: The whole gzip file.
  ///   - file: The name to use in errors.
  ///   - maxOutputBytes: The most output to produce; decoding stops there, so a hostile
  ///     file cannot force a huge allocation.
  /// - Returns: The concatenated data of all members.
  /// - Throws: `DatasetError.corruptCompressedData` for damaged or truncated data, and
  ///   `DatasetError.decompressedSizeExceedsLimit` if the output would exceed `maxOutputBytes`.
  public static func decompress(
    _ bytes: [UInt8], file: String = "<memory>", maxOutputBytes: Int = .max
  ) throws -> [UInt8] {
    let result = try decompress(bytes, file: file, limit: maxOutputBytes)
    if result.reachedLimit {
      throw DatasetError.decompressedSizeExceedsLimit(file: file, limit: maxOutputBytes)
    }
    return result.bytes
  }

  /// Decompresses at most `limit` bytes. `reachedLimit` says the data holds more (in which
  /// case the rest, and the last member's CRC, are not read); errors are `DatasetError`s
  /// naming `file`. The last member's ISIZE sizes the first allocation (clamped to `limit`).
  static func decompress(_ bytes: [UInt8], file: String, limit: Int) throws(DatasetError)
    -> (bytes: [UInt8], reachedLimit: Bool)
  {
    let isize = bytes.count >= 18 ? bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) } : 0
    return try Zlib.decompress(bytes, format: .gzip, file: file, limit: limit, sizeHint: isize)
  }
}
