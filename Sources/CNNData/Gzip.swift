/// Decompresses gzip data (RFC 1952) with the DEFLATE decoder in this module; no zlib.
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
  /// case the last member's CRC is not checked); errors are `DatasetError`s naming `file`.
  static func decompress(_ bytes: [UInt8], file: String, limit: Int) throws(DatasetError)
    -> (bytes: [UInt8], reachedLimit: Bool)
  {
    let result = bytes.withUnsafeBufferPointer { buffer in
      Result { () throws(InflateError) in try gunzip(buffer, limit: limit) }
    }
    switch result {
    case .success(let output): return output
    case .failure(let error):
      throw DatasetError.corruptCompressedData(file: file, reason: error.reason)
    }
  }

  /// The member loop behind ``decompress(_:file:maxOutputBytes:)``.
  static func gunzip(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) throws(InflateError)
    -> (bytes: [UInt8], reachedLimit: Bool)
  {
    guard hasMagic(bytes) else { throw .corrupt("not gzip data (it does not start with 1F 8B)") }
    // The last member's ISIZE sizes the first allocation (the inflater clamps it).
    let sizeHint = bytes.count >= 18 ? Int(littleEndian32(bytes, at: bytes.count - 4)) : 0
    var inflater = Inflater(input: bytes, limit: limit, capacityHint: sizeHint)
    var memberStart = 0
    do throws(InflateError) {
      while true {
        let outputStart = inflater.outputCount
        try inflater.inflate(from: try dataStart(bytes, member: memberStart))
        let end = inflater.position
        guard bytes.count - end >= 8 else { throw .truncated }
        let data = UnsafeBufferPointer(
          start: inflater.output + outputStart, count: inflater.outputCount - outputStart)
        let storedCRC = littleEndian32(bytes, at: end)
        let computedCRC = CRC32.checksum(data)
        guard storedCRC == computedCRC else {
          throw .corrupt(
            "CRC-32 mismatch: the trailer says \(hex(storedCRC)), "
              + "the data gives \(hex(computedCRC))")
        }
        let storedSize = littleEndian32(bytes, at: end + 4)
        guard storedSize == UInt32(truncatingIfNeeded: data.count) else {
          throw .corrupt(
            "size mismatch: the trailer says \(storedSize), the data has \(data.count)")
        }
        memberStart = end + 8
        let rest = bytes[memberStart...]
        if rest.allSatisfy({ $0 == 0 }) { break }
        guard hasMagic(rest) else {
          throw .corrupt(
            "\(rest.count) bytes of non-gzip data after the member ending at \(end + 8)")
        }
      }
    } catch .outputLimitReached {
      return (inflater.takeOutput(), true)
    } catch {
      inflater.deallocate()
      throw error
    }
    return (inflater.takeOutput(), false)
  }

  /// Parses the member header at `member` and returns the offset of its DEFLATE data.
  static func dataStart(_ bytes: UnsafeBufferPointer<UInt8>, member: Int) throws(InflateError)
    -> Int
  {
    guard bytes.count - member >= 10 else { throw .truncated }
    guard bytes[member] == 0x1F, bytes[member + 1] == 0x8B else {
      throw .corrupt("no gzip magic at byte \(member)")
    }
    guard bytes[member + 2] == 8 else {
      throw .corrupt("compression method \(bytes[member + 2]) is not 8 (deflate)")
    }
    let flags = bytes[member + 3]
    guard flags & 0xE0 == 0 else { throw .corrupt("reserved header flags are set") }
    var offset = member + 10
    if flags & 0x04 != 0 {  // FEXTRA
      guard bytes.count - offset >= 2 else { throw .truncated }
      let extraLength = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
      offset += 2
      guard bytes.count - offset >= extraLength else { throw .truncated }
      offset += extraLength
    }
    for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT
      guard let zero = bytes[offset...].firstIndex(of: 0) else { throw .truncated }
      offset = zero + 1
    }
    if flags & 0x02 != 0 {  // FHCRC: the low 16 bits of the header's CRC-32
      guard bytes.count - offset >= 2 else { throw .truncated }
      let stored = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
      let header = UnsafeBufferPointer(rebasing: bytes[member..<offset])
      guard stored == CRC32.checksum(header) & 0xFFFF else {
        throw .corrupt("header CRC mismatch")
      }
      offset += 2
    }
    return offset
  }

  /// The little-endian `UInt32` at `offset`; the caller checked that 4 bytes are there.
  static func littleEndian32(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
  }
}
