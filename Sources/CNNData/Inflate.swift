/// A DEFLATE decoder (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks.
///
/// Reads from a byte buffer through a 64-bit bit buffer refilled eight bytes at a time and
/// decodes symbols with two-level lookup tables (``HuffmanTable``). Every read is bounds-checked:
/// past the end of the input it reads zero "padding" bytes, and consuming any of them means
/// the stream is truncated. The output grows as needed but never beyond `limit` bytes.
///
/// The output is owned by the inflater; call ``takeOutput()`` once at the end, or
/// ``deallocate()`` if abandoning it. Several streams (gzip members) can be decoded into one
/// output with repeated ``inflate(from:)`` calls; back-references never cross streams.
struct Inflater {
  private let input: UnsafeBufferPointer<UInt8>
  private(set) var position = 0
  private var bitBuffer: UInt64 = 0
  private var bitCount = 0
  private var paddingBytes = 0

  private(set) var output: UnsafeMutablePointer<UInt8>
  private(set) var outputCount = 0
  private var outputCapacity: Int
  private let limit: Int
  private var streamStart = 0

  /// Prepares to decode `input`, producing at most `limit` bytes; `capacityHint` sizes the
  /// first output allocation (it is clamped, so a lying size field cannot force a huge one).
  init(input: UnsafeBufferPointer<UInt8>, limit: Int, capacityHint: Int) {
    self.input = input
    self.limit = max(0, limit)
    // DEFLATE expands at most about 1032:1, so no valid stream needs more than this.
    let bound = input.count <= Int.max / 2048 ? input.count * 1032 + 1024 : Int.max
    outputCapacity = max(0, min(capacityHint, self.limit, bound))
    output = .allocate(capacity: max(1, outputCapacity))
  }

  /// The decoded bytes; the inflater must not be used afterwards.
  func takeOutput() -> [UInt8] {
    defer { output.deallocate() }
    return Array(UnsafeBufferPointer(start: output, count: outputCount))
  }

  /// Frees the output without copying it.
  func deallocate() { output.deallocate() }

  /// Decodes one complete DEFLATE stream starting at byte `start` of the input, appending
  /// to the output; afterwards ``position`` is the first byte after the stream.
  mutating func inflate(from start: Int) throws(InflateError) {
    guard start <= input.count else { throw .truncated }
    position = start
    bitBuffer = 0
    bitCount = 0
    paddingBytes = 0
    streamStart = outputCount
    var isFinal = false
    while !isFinal {
      isFinal = try bits(1) == 1
      switch try bits(2) {
      case 0: try copyStoredBlock()
      case 1: try decodeBlock(HuffmanTable.fixedLiteralLength, HuffmanTable.fixedDistance)
      case 2:
        let (literalLength, distance) = try readDynamicTables()
        try decodeBlock(literalLength, distance)
      default: throw failure("invalid block type 3")
      }
      if bitCount < 8 * paddingBytes { throw .truncated }
    }
    try alignToByte()
  }

  // MARK: - Bits

  /// Makes at least 56 bits available (some of them padding past the end of the input).
  @inline(__always)
  private mutating func refill() throws(InflateError) {
    if position &+ 8 <= input.count, let base = input.baseAddress {
      let raw = UnsafeRawPointer(base + position)
      let word = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
      bitBuffer |= word &<< UInt64(bitCount)
      position &+= (63 &- bitCount) &>> 3
      bitCount |= 56
    } else {
      while bitCount < 56 {
        if position < input.count {
          bitBuffer |= UInt64(input[position]) &<< UInt64(bitCount)
          position += 1
        } else {
          // A valid stream never needs more than 7 padding bytes of look-ahead.
          paddingBytes += 1
          if paddingBytes > 8 { throw .truncated }
        }
        bitCount += 8
      }
    }
  }

  /// Reads `count` bits (at most 32), least significant first.
  @inline(__always)
  private mutating func bits(_ count: Int) throws(InflateError) -> Int {
    if bitCount < count { try refill() }
    let value = bitBuffer & ((1 &<< UInt64(count)) &- 1)
    bitBuffer &>>= UInt64(count)
    bitCount &-= count
    return Int(truncatingIfNeeded: value)
  }

  /// Decodes one symbol; the caller has made at least 15 bits available.
  @inline(__always)
  private mutating func symbol(_ table: HuffmanTable) throws(InflateError) -> Int {
    let entries = table.entries
    var entry = entries[Int(truncatingIfNeeded: bitBuffer & ((1 &<< UInt64(table.rootBits)) &- 1))]
    if entry & HuffmanTable.subtableFlag != 0 {
      bitBuffer &>>= UInt64(table.rootBits)
      bitCount &-= table.rootBits
      let index = bitBuffer & ((1 &<< UInt64(entry & 0xFF)) &- 1)
      entry = entries[Int(entry >> 16) &+ Int(truncatingIfNeeded: index)]
    }
    let length = Int(entry & 0xFF)
    if length == 0 { throw failure("invalid Huffman code") }
    bitBuffer &>>= UInt64(length)
    bitCount &-= length
    return Int(entry >> 16)
  }

  /// Drops the bits up to the next byte boundary and hands the whole unread bytes in the bit
  /// buffer back to the input, so ``position`` is exact.
  private mutating func alignToByte() throws(InflateError) {
    bitCount -= bitCount % 8
    let unread = bitCount / 8 - paddingBytes
    guard unread >= 0 else { throw .truncated }
    position -= unread
    bitBuffer = 0
    bitCount = 0
    paddingBytes = 0
  }

  /// The error for malformed data, or `.truncated` if padding was read (the real cause).
  private func failure(_ reason: String) -> InflateError {
    bitCount < 8 * paddingBytes ? .truncated : .corrupt(reason)
  }

  // MARK: - Output

  /// Ensures room for `count` more bytes; returns how many fit under the limit (≤ `count`).
  @inline(__always)
  private mutating func reserve(_ count: Int) -> Int {
    if outputCapacity &- outputCount >= count { return count }
    return grow(count)
  }

  private mutating func grow(_ count: Int) -> Int {
    let wanted = min(limit, max(outputCount + count, outputCapacity * 2, 1 << 16))
    if wanted > outputCapacity {
      let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: wanted)
      bigger.update(from: output, count: outputCount)
      output.deallocate()
      output = bigger
      outputCapacity = wanted
    }
    return min(count, outputCapacity - outputCount)
  }

  // MARK: - Blocks

  /// Block type 0: `LEN`, `NLEN = ~LEN`, then `LEN` raw bytes, starting at a byte boundary.
  private mutating func copyStoredBlock() throws(InflateError) {
    bitBuffer &>>= UInt64(bitCount % 8)
    bitCount -= bitCount % 8
    let length = try bits(16)
    let complement = try bits(16)
    if bitCount < 8 * paddingBytes { throw .truncated }
    guard length == ~complement & 0xFFFF else {
      throw .corrupt("stored block length \(length) does not match its complement")
    }
    try alignToByte()
    guard input.count - position >= length, let base = input.baseAddress else { throw .truncated }
    let room = reserve(length)
    (output + outputCount).update(from: base + position, count: room)
    outputCount += room
    position += length
    if room < length { throw .outputLimitReached }
  }

  /// Block type 2's header: the code-length code, then the literal/length and distance codes.
  private mutating func readDynamicTables() throws(InflateError) -> (HuffmanTable, HuffmanTable) {
    let literalCount = try bits(5) + 257
    let distanceCount = try bits(5) + 1
    let codeLengthCount = try bits(4) + 4
    guard literalCount <= 286, distanceCount <= 30 else {
      throw failure("too many length (\(literalCount)) or distance (\(distanceCount)) symbols")
    }
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    var codeLengthLengths = [UInt8](repeating: 0, count: 19)
    for i in 0..<codeLengthCount { codeLengthLengths[order[i]] = UInt8(try bits(3)) }
    let codeLengthCode: HuffmanTable
    do {
      codeLengthCode = try HuffmanTable(
        lengths: codeLengthLengths, rootBits: 7, allowSingleCode: false)
    } catch { throw failure("code-length code: \(error.reason)") }

    let total = literalCount + distanceCount
    var lengths = [UInt8](repeating: 0, count: total)
    var i = 0
    while i < total {
      if bitCount < 14 { try refill() }
      let code = try symbol(codeLengthCode)
      if code < 16 {
        lengths[i] = UInt8(code)
        i += 1
        continue
      }
      let (value, repeats): (UInt8, Int)
      switch code {
      case 16:
        guard i > 0 else { throw failure("length repeat with no previous length") }
        (value, repeats) = (lengths[i - 1], 3 + (try bits(2)))
      case 17: (value, repeats) = (0, 3 + (try bits(3)))
      default: (value, repeats) = (0, 11 + (try bits(7)))
      }
      guard i + repeats <= total else { throw failure("code lengths overrun the table") }
      for j in i..<(i + repeats) { lengths[j] = value }
      i += repeats
    }
    guard lengths[256] != 0 else { throw failure("missing end-of-block code") }
    do {
      let literalLength = try HuffmanTable(lengths: lengths[0..<literalCount], rootBits: 10)
      let distance = try HuffmanTable(lengths: lengths[literalCount...], rootBits: 8)
      return (literalLength, distance)
    } catch { throw failure("literal/length or distance code: \(error.reason)") }
  }

  /// Decodes literals and back-references until the end-of-block symbol (256).
  private mutating func decodeBlock(_ literalLength: HuffmanTable, _ distance: HuffmanTable)
    throws(InflateError)
  {
    while true {
      // 48 bits cover the longest pair: 15 + 5 (length) + 15 + 13 (distance).
      if bitCount < 48 { try refill() }
      let code = try symbol(literalLength)
      if code < 256 {
        if outputCount == outputCapacity && grow(1) == 0 { throw .outputLimitReached }
        output[outputCount] = UInt8(truncatingIfNeeded: code)
        outputCount &+= 1
        continue
      }
      if code == 256 { return }
      let lengthIndex = code &- 257
      guard lengthIndex < 29 else { throw failure("invalid length symbol \(code)") }
      let length = Deflate.lengthBase[lengthIndex] &+ (try bits(Deflate.lengthExtra[lengthIndex]))
      let distanceIndex = try symbol(distance)
      guard distanceIndex < 30 else { throw failure("invalid distance symbol \(distanceIndex)") }
      let back =
        Deflate.distanceBase[distanceIndex] &+ (try bits(Deflate.distanceExtra[distanceIndex]))
      guard back <= outputCount &- streamStart else {
        throw failure("distance \(back) too far back (only \(outputCount - streamStart) bytes)")
      }
      let room = reserve(length)
      let destination = output + outputCount
      let source = destination - back
      if back >= room {
        destination.update(from: source, count: room)
      } else {
        for j in 0..<room { destination[j] = source[j] }  // overlapping: repeats the pattern
      }
      outputCount &+= room
      if room < length { throw .outputLimitReached }
    }
  }
}
