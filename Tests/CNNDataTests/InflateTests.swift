import Testing

@testable import CNNData

/// Writes a fixed-Huffman literal/length symbol (RFC 1951 §3.2.6).
private func writeFixed(_ symbol: Int, to writer: inout BitWriter) {
  switch symbol {
  case 0..<144: writer.writeCode(0x30 + symbol, length: 8)
  case 144..<256: writer.writeCode(0x190 + symbol - 144, length: 9)
  case 256..<280: writer.writeCode(symbol - 256, length: 7)
  default: writer.writeCode(0xC0 + symbol - 280, length: 8)
  }
}

@Suite struct InflateTests {
  static let sampleFixtures = [
    "sample-level0.gz", "sample-level1.gz", "sample-level9.gz", "sample-fname.gz",
    "sample-allflags.gz", "sample-fixed.gz", "multi-member.gz",
  ]

  @Test(arguments: sampleFixtures)
  func decompressesFixture(name: String) throws {
    let expected = try Fixtures.bytes("sample.bin")
    let output = try Gzip.decompress(try Fixtures.bytes(name), file: name)
    #expect(output.count == expected.count)
    #expect(output == expected)
  }

  @Test func decompressesShortFixedHuffmanMember() throws {
    let output = try Gzip.decompress(try Fixtures.bytes("short.gz"))
    #expect(String(decoding: output, as: UTF8.self) == "hello, hello, hello world\n")
  }

  @Test func crc32MatchesTheCheckValue() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([]) == 0)
  }

  @Test func storedGzipRoundTrips() throws {
    let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    #expect(try Gzip.decompress(storedGzip(data)) == data)
    #expect(try Gzip.decompress(storedGzip([])) == [])
  }

  @Test func trailingZerosAreIgnoredButGarbageIsAnError() throws {
    let gz = try Fixtures.bytes("short.gz")
    #expect(try Gzip.decompress(gz + [0, 0, 0, 0]).count == 26)
    let error = datasetError { try Gzip.decompress(gz + [0x42, 0x43], file: "x.gz") }
    guard case .corruptCompressedData(let file, let reason) = error else {
      Issue.record("expected corruptCompressedData, got \(String(describing: error))")
      return
    }
    #expect(file == "x.gz")
    #expect(reason.contains("non-gzip data"))
  }

  @Test func notGzipIsAnError() {
    let error = datasetError { try Gzip.decompress([0x00, 0x00, 0x08, 0x03]) }
    guard case .corruptCompressedData(_, let reason) = error else {
      Issue.record("expected corruptCompressedData, got \(String(describing: error))")
      return
    }
    #expect(reason.contains("1F 8B"))
  }

  /// Flipping any bit gives the original data (bits in MTIME, XFL, OS, FTEXT) or a
  /// `corruptCompressedData` error: never a crash, never wrong data.
  @Test func everyBitFlipIsCaughtOrHarmless() throws {
    let gz = try Fixtures.bytes("short.gz")
    let original = try Gzip.decompress(gz)
    for index in gz.indices {
      for bit in 0..<8 {
        var damaged = gz
        damaged[index] ^= 1 << bit
        do {
          let output = try Gzip.decompress(damaged)
          #expect(output == original, "byte \(index) bit \(bit) gave wrong data")
          #expect((3...9).contains(index), "byte \(index) bit \(bit) went unnoticed")
        } catch let error as DatasetError {
          guard case .corruptCompressedData = error else {
            Issue.record("byte \(index) bit \(bit): unexpected \(error)")
            continue
          }
          #expect(error.hint.contains("download it again"))
        }
      }
    }
  }

  @Test(arguments: ["sample-level9.gz", "sample-level0.gz", "sample-fixed.gz"])
  func flippedBytesInTheStreamAreErrors(name: String) throws {
    let gz = try Fixtures.bytes(name)
    for index in stride(from: 10, to: gz.count, by: max(1, gz.count / 150)) {
      var damaged = gz
      damaged[index] ^= 0xA5
      let error = datasetError { try Gzip.decompress(damaged) }
      guard case .corruptCompressedData = error else {
        Issue.record("\(name) byte \(index): expected an error, got \(String(describing: error))")
        continue
      }
    }
  }

  @Test(arguments: ["short.gz", "sample-level9.gz", "sample-allflags.gz", "multi-member.gz"])
  func truncatedStreamsAreErrors(name: String) throws {
    let gz = try Fixtures.bytes(name)
    for length in stride(from: 2, to: gz.count, by: max(1, gz.count / 200)) {
      let error = datasetError { try Gzip.decompress(Array(gz[..<length])) }
      guard case .corruptCompressedData(_, let reason) = error else {
        Issue.record("\(name) cut at \(length): got \(String(describing: error))")
        continue
      }
      #expect(reason.contains("truncated"), "\(name) cut at \(length): \(reason)")
    }
  }

  @Test func outputLimitStopsDecoding() throws {
    let gz = try Fixtures.bytes("sample-level9.gz")
    let sample = try Fixtures.bytes("sample.bin")
    let error = datasetError { try Gzip.decompress(gz, file: "s.gz", maxOutputBytes: 1000) }
    #expect(error == .decompressedSizeExceedsLimit(file: "s.gz", limit: 1000))
    for limit in [0, 1, 16, 6001, sample.count - 1] {
      let (prefix, reachedLimit) = try Gzip.decompress(gz, file: "s.gz", limit: limit)
      #expect(reachedLimit)
      #expect(prefix == Array(sample[..<limit]))
    }
    let (whole, reachedLimit) = try Gzip.decompress(gz, file: "s.gz", limit: sample.count)
    #expect(!reachedLimit && whole == sample)
  }

  @Test func backReferencesRepeatOverlappingPatterns() throws {
    var writer = BitWriter()
    writer.write(1, bits: 1)  // BFINAL
    writer.write(1, bits: 2)  // fixed Huffman
    writeFixed(Int(UInt8(ascii: "a")), to: &writer)
    writeFixed(Int(UInt8(ascii: "b")), to: &writer)
    writeFixed(265, to: &writer)  // length 11 + 1 extra bit
    writer.write(1, bits: 1)  // → 12
    writer.writeCode(1, length: 5)  // distance 2
    writeFixed(256, to: &writer)
    #expect(try inflateRaw(writer.bytes) == Array("abababababababab".utf8.prefix(14)))
  }

  @Test func distanceTooFarBackIsAnError() {
    var writer = BitWriter()
    writer.write(1, bits: 1)
    writer.write(1, bits: 2)
    writeFixed(Int(UInt8(ascii: "a")), to: &writer)
    writeFixed(257, to: &writer)  // length 3
    writer.writeCode(1, length: 5)  // distance 2, but only 1 byte so far
    writeFixed(256, to: &writer)
    #expect(throws: InflateError.corrupt("distance 2 too far back (only 1 bytes)")) {
      try inflateRaw(writer.bytes)
    }
  }

  @Test func invalidSymbolsAndBlockTypesAreErrors() {
    var badType = BitWriter()
    badType.write(1, bits: 1)
    badType.write(3, bits: 2)
    badType.write(0, bits: 13)
    #expect(throws: InflateError.corrupt("invalid block type 3")) { try inflateRaw(badType.bytes) }

    var badLength = BitWriter()
    badLength.write(1, bits: 1)
    badLength.write(1, bits: 2)
    writeFixed(286, to: &badLength)
    badLength.write(0, bits: 24)
    #expect(throws: InflateError.corrupt("invalid length symbol 286")) {
      try inflateRaw(badLength.bytes)
    }

    var badNLEN = BitWriter()
    badNLEN.write(1, bits: 3)  // final stored block
    badNLEN.write(0, bits: 5)
    badNLEN.write(5, bits: 16)
    badNLEN.write(5, bits: 16)
    badNLEN.write(0, bits: 40)
    #expect(throws: InflateError.corrupt("stored block length 5 does not match its complement")) {
      try inflateRaw(badNLEN.bytes)
    }

    var tooManyCodes = BitWriter()
    tooManyCodes.write(1, bits: 1)
    tooManyCodes.write(2, bits: 2)
    tooManyCodes.write(30, bits: 5)  // HLIT 287
    tooManyCodes.write(0, bits: 40)
    #expect(throws: InflateError.self) { try inflateRaw(tooManyCodes.bytes) }
  }

  @Test func emptyAndTruncatedRawStreams() {
    #expect(throws: InflateError.truncated) { try inflateRaw([]) }
    var stored = BitWriter()
    stored.write(1, bits: 3)
    stored.write(0, bits: 5)
    stored.write(100, bits: 16)
    stored.write(~100 & 0xFFFF, bits: 16)
    #expect(throws: InflateError.truncated) { try inflateRaw(stored.bytes + [1, 2, 3]) }
  }

  @Test func huffmanTablesRejectBadCodeLengths() throws {
    #expect(throws: InflateError.corrupt("over-subscribed Huffman code")) {
      try HuffmanTable(lengths: [1, 1, 1] as [UInt8], rootBits: 4)
    }
    #expect(throws: InflateError.corrupt("incomplete Huffman code")) {
      try HuffmanTable(lengths: [1, 2] as [UInt8], rootBits: 4)
    }
    #expect(throws: InflateError.corrupt("incomplete Huffman code")) {
      try HuffmanTable(lengths: [1] as [UInt8], rootBits: 4, allowSingleCode: false)
    }
    _ = try HuffmanTable(lengths: [1, 2, 2] as [UInt8], rootBits: 4)
    _ = try HuffmanTable(lengths: [0, 1] as [UInt8], rootBits: 4)  // one code: allowed
    _ = try HuffmanTable(lengths: [0, 0] as [UInt8], rootBits: 4)  // no codes: allowed
    // Codes longer than the root use subtables: lengths 1, 2, …, 14, 15, 15.
    let long = (1...15).map(UInt8.init) + [15]
    let table = try HuffmanTable(lengths: long, rootBits: 4)
    #expect(table.count > 16)
  }
}
