/// CRC-32 as used by gzip and zip (ISO 3309, polynomial 0xEDB88320 reflected), RFC 1952 §8.
///
/// Slicing-by-8: eight 256-entry tables let the loop fold in eight bytes per step.
enum CRC32 {
  /// `tables[k * 256 + b]` is the CRC of byte `b` followed by `k` zero bytes.
  static let tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
      var crc = UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
      tables[byte] = crc
    }
    for k in 1..<8 {
      for byte in 0..<256 {
        let previous = tables[(k - 1) * 256 + byte]
        tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
      }
    }
    return tables
  }()

  /// The CRC-32 of `bytes`, continuing from `crc` (the CRC of the bytes before them).
  static func checksum(_ bytes: UnsafeBufferPointer<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
    tables.withUnsafeBufferPointer { table in
      var crc = ~crc
      var i = 0
      let count = bytes.count
      guard let base = bytes.baseAddress else { return ~crc }
      while i + 8 <= count {
        let word =
          UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
          ^ UInt64(crc)
        crc =
          table[7 * 256 + Int(word & 0xFF)] ^ table[6 * 256 + Int(word >> 8 & 0xFF)]
          ^ table[5 * 256 + Int(word >> 16 & 0xFF)] ^ table[4 * 256 + Int(word >> 24 & 0xFF)]
          ^ table[3 * 256 + Int(word >> 32 & 0xFF)] ^ table[2 * 256 + Int(word >> 40 & 0xFF)]
          ^ table[1 * 256 + Int(word >> 48 & 0xFF)] ^ table[Int(word >> 56)]
        i += 8
      }
      while i < count {
        crc = (crc >> 8) ^ table[Int((crc ^ UInt32(base[i])) & 0xFF)]
        i += 1
      }
      return ~crc
    }
  }

  /// The CRC-32 of `bytes`.
  static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { checksum($0) }
  }
}
