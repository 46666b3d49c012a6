import CNNData

/// A small DEFLATE compressor (RFC 1951) for the PNG writer: LZ77 with hash chains over a
/// 32 KB window, coded with the fixed Huffman codes of §3.2.6 in one final block.
///
/// It trades ratio for size of code: no dynamic Huffman tables, greedy matching with a
/// chain of at most ``maxChain`` candidates. Filtered image rows, scaled-up filter tiles
/// and charts compress well; photographs come out 10–30 % larger than with zlib's level 6.
/// `CNNData.Zlib.decompress` reads the result back (the tests round-trip through it).
enum Deflater {
  static let windowSize = 1 << 15
  static let minMatch = 3
  static let maxMatch = 258
  /// Candidates examined per position.
  static let maxChain = 48
  /// A match this long is taken without looking further.
  static let niceLength = 128

  /// `data` as a zlib stream (RFC 1950): header `78 01`, DEFLATE data, Adler-32.
  static func zlib(_ data: [UInt8]) -> [UInt8] {
    var writer = BitWriter()
    writer.bytes = [0x78, 0x01]
    data.withUnsafeBufferPointer { deflate($0, into: &writer) }
    writer.flush()
    let adler = data.withUnsafeBufferPointer { Zlib.adler32($0) }
    writer.bytes += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
    return writer.bytes
  }

  /// Appends one final fixed-Huffman block holding `input`.
  static func deflate(_ input: UnsafeBufferPointer<UInt8>, into writer: inout BitWriter) {
    writer.write(1, count: 1)  // BFINAL
    writer.write(1, count: 2)  // BTYPE = 01, fixed Huffman
    let count = input.count
    let hashBits = 15, hashSize = 1 << hashBits
    var head = [Int32](repeating: -1, count: hashSize)
    var previous = [Int32](repeating: -1, count: windowSize)
    @inline(__always) func hash(_ i: Int) -> Int {
      let v = Int(input[i]) << 16 | Int(input[i + 1]) << 8 | Int(input[i + 2])
      return (v &* 0x9E37_79B1) >> (32 - hashBits) & (hashSize - 1)
    }
    @inline(__always) func insert(_ i: Int) {
      guard i + minMatch <= count else { return }
      let h = hash(i)
      previous[i & (windowSize - 1)] = head[h]
      head[h] = Int32(i)
    }
    var i = 0
    while i < count {
      var bestLength = 0, bestDistance = 0
      if i + minMatch <= count {
        var candidate = Int(head[hash(i)])
        var chain = maxChain
        let limit = min(maxMatch, count - i)
        while candidate >= 0 && i - candidate <= windowSize && chain > 0 {
          if input[candidate + bestLength] == input[i + bestLength] {
            var length = 0
            while length < limit && input[candidate + length] == input[i + length] { length += 1 }
            if length > bestLength {
              bestLength = length
              bestDistance = i - candidate
              if length >= niceLength || length == limit { break }
            }
          }
          let next = Int(previous[candidate & (windowSize - 1)])
          if next >= candidate { break }
          candidate = next
          chain -= 1
        }
      }
      if bestLength >= minMatch {
        writer.writeLength(bestLength)
        writer.writeDistance(bestDistance)
        for j in i..<(i + bestLength) { insert(j) }
        i += bestLength
      } else {
        writer.writeLiteral(Int(input[i]))
        insert(i)
        i += 1
      }
    }
    writer.writeLiteral(256)  // end of block
  }
}

/// Writes bits least-significant first, as DEFLATE packs them, with the fixed Huffman codes.
struct BitWriter {
  var bytes: [UInt8] = []
  private var buffer: UInt64 = 0
  private var bitCount = 0

  /// Appends the low `count` bits of `value`, least significant first.
  @inline(__always)
  mutating func write(_ value: Int, count: Int) {
    buffer |= UInt64(value) << UInt64(bitCount)
    bitCount += count
    while bitCount >= 8 {
      bytes.append(UInt8(truncatingIfNeeded: buffer))
      buffer >>= 8
      bitCount -= 8
    }
  }

  /// Appends a Huffman code of `length` bits (codes are packed most significant bit first).
  @inline(__always)
  mutating func writeCode(_ code: Int, length: Int) {
    var reversed = 0
    for bit in 0..<length { reversed |= (code >> bit & 1) << (length - 1 - bit) }
    write(reversed, count: length)
  }

  /// A literal byte (0–255) or the end-of-block / length symbol (256–287), fixed code.
  mutating func writeLiteral(_ symbol: Int) {
    switch symbol {
    case 0...143: writeCode(0x30 + symbol, length: 8)
    case 144...255: writeCode(0x190 + symbol - 144, length: 9)
    case 256...279: writeCode(symbol - 256, length: 7)
    default: writeCode(0xC0 + symbol - 280, length: 8)
    }
  }

  /// A match length 3–258: its symbol 257–285 and extra bits.
  mutating func writeLength(_ length: Int) {
    var index = Self.lengthBase.count - 1
    while Self.lengthBase[index] > length { index -= 1 }
    writeLiteral(257 + index)
    let extra = Self.lengthExtra[index]
    if extra > 0 { write(length - Self.lengthBase[index], count: extra) }
  }

  /// A match distance 1–32768: its 5-bit fixed code and extra bits.
  mutating func writeDistance(_ distance: Int) {
    var index = Self.distanceBase.count - 1
    while Self.distanceBase[index] > distance { index -= 1 }
    writeCode(index, length: 5)
    let extra = Self.distanceExtra[index]
    if extra > 0 { write(distance - Self.distanceBase[index], count: extra) }
  }

  /// Pads the last byte with zero bits.
  mutating func flush() {
    if bitCount > 0 { write(0, count: 8 - bitCount) }
  }

  // RFC 1951 §3.2.5.
  static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
  static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
    6145, 8193, 12289, 16385, 24577,
  ]
  static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]
}
