/// A canonical Huffman code as a two-level lookup table, for DEFLATE (RFC 1951 §3.2.2).
///
/// DEFLATE packs Huffman codes most-significant bit first into a least-significant-bit-first
/// stream, so the table is indexed by the next `rootBits` stream bits (the bit-reversed code).
/// Codes longer than `rootBits` go through a subtable chosen by their first `rootBits` bits.
///
/// Entry layout (`UInt32`):
/// - bits 0–7: the number of bits to consume (the code length, or for a subtable entry the
///   length minus `rootBits`); 0 marks an unused code (corrupt input);
/// - bit 8: set on a root entry that points to a subtable, whose index width is in bits 0–7;
/// - bits 16–31: the symbol, or the subtable's first index.
final class HuffmanTable: @unchecked Sendable {
  /// The entries: `1 << rootBits` root entries, then the subtables. Immutable after `init`.
  let entries: UnsafeMutablePointer<UInt32>
  /// The number of entries.
  let count: Int
  /// The number of stream bits that index the root table.
  let rootBits: Int

  /// The flag that marks a root entry pointing to a subtable.
  static let subtableFlag: UInt32 = 0x100

  /// Builds the table for the code with these lengths (0 = symbol unused, at most 15).
  ///
  /// - Parameters:
  ///   - lengths: The code length of each symbol, in symbol order.
  ///   - rootBits: The root table's index width, 1…15.
  ///   - allowSingleCode: Whether an incomplete code is allowed when it has at most one
  ///     code, of length 1 (RFC 1951 §3.2.7 permits this for distance codes; zlib also
  ///     accepts it for literal/length codes). Other incomplete codes are rejected.
  /// - Throws: `InflateError.corrupt` for an over-subscribed or incomplete code.
  init(lengths: some Collection<UInt8>, rootBits: Int, allowSingleCode: Bool = true)
    throws(InflateError)
  {
    precondition((1...15).contains(rootBits), "rootBits \(rootBits) is not in 1…15")
    self.rootBits = rootBits
    var counts = [Int](repeating: 0, count: 16)
    var maxLength = 0
    for length in lengths {
      guard length <= 15 else { throw .corrupt("code length \(length) is over 15") }
      counts[Int(length)] += 1
      maxLength = max(maxLength, Int(length))
    }
    // Kraft sum: `left` is the number of unused codes of the current length.
    var left = 1
    for length in 1...15 {
      left = left * 2 - counts[length]
      if left < 0 { throw .corrupt("over-subscribed Huffman code") }
    }
    if left > 0 && !(allowSingleCode && maxLength <= 1) {
      throw .corrupt("incomplete Huffman code")
    }

    // Canonical codes (RFC 1951 §3.2.2 step 2), then each symbol's bit-reversed code.
    var nextCode = [Int](repeating: 0, count: 16)
    var code = 0
    for length in 1...15 {
      code = (code + (length == 1 ? 0 : counts[length - 1])) << 1
      nextCode[length] = code
    }
    var reversed = [Int](repeating: 0, count: lengths.count)
    for (symbol, length) in lengths.enumerated() where length > 0 {
      reversed[symbol] = Self.reverse(nextCode[Int(length)], bits: Int(length))
      nextCode[Int(length)] += 1
    }

    // Pass 1: the longest code behind each root prefix sizes that prefix's subtable.
    let rootSize = 1 << rootBits
    let rootMask = rootSize - 1
    var longest = [Int](repeating: 0, count: rootSize)
    for (symbol, length) in lengths.enumerated() where Int(length) > rootBits {
      let prefix = reversed[symbol] & rootMask
      longest[prefix] = max(longest[prefix], Int(length))
    }
    var subtableStart = [Int](repeating: 0, count: rootSize)
    var total = rootSize
    for prefix in 0..<rootSize where longest[prefix] > 0 {
      subtableStart[prefix] = total
      total += 1 << (longest[prefix] - rootBits)
    }
    count = total
    entries = .allocate(capacity: total)
    entries.initialize(repeating: 0, count: total)
    for prefix in 0..<rootSize where longest[prefix] > 0 {
      entries[prefix] =
        UInt32(subtableStart[prefix]) << 16 | Self.subtableFlag | UInt32(longest[prefix] - rootBits)
    }

    // Pass 2: every index whose low bits equal a code maps to that code's symbol.
    for (symbol, length) in lengths.enumerated() where length > 0 {
      let length = Int(length)
      let bits = reversed[symbol]
      if length <= rootBits {
        let entry = UInt32(symbol) << 16 | UInt32(length)
        for index in stride(from: bits, to: rootSize, by: 1 << length) { entries[index] = entry }
      } else {
        let prefix = bits & rootMask
        let width = longest[prefix] - rootBits
        let entry = UInt32(symbol) << 16 | UInt32(length - rootBits)
        let start = subtableStart[prefix]
        for index in stride(from: bits >> rootBits, to: 1 << width, by: 1 << (length - rootBits)) {
          entries[start + index] = entry
        }
      }
    }
  }

  deinit { entries.deallocate() }

  /// The low `bits` bits of `code`, in reverse order.
  static func reverse(_ code: Int, bits: Int) -> Int {
    var code = code
    var result = 0
    for _ in 0..<bits {
      result = result << 1 | code & 1
      code >>= 1
    }
    return result
  }

  /// The fixed literal/length code of RFC 1951 §3.2.6 (block type 1).
  static let fixedLiteralLength: HuffmanTable = {
    let lengths: [UInt8] =
      Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112)
      + Array(repeating: 7, count: 24) + Array(repeating: 8, count: 8)
    // The fixed code is complete, so this cannot throw.
    guard let table = try? HuffmanTable(lengths: lengths, rootBits: 9) else {
      preconditionFailure("the fixed literal/length code is valid")
    }
    return table
  }()

  /// The fixed distance code of RFC 1951 §3.2.6: 32 codes of 5 bits (30 and 31 are invalid).
  static let fixedDistance: HuffmanTable = {
    guard let table = try? HuffmanTable(lengths: [UInt8](repeating: 5, count: 32), rootBits: 5)
    else { preconditionFailure("the fixed distance code is valid") }
    return table
  }()
}
