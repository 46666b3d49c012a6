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

  @Test func multipleMembersAndPaddingDecodeAsGunzipDoes() throws {
    let (a, b) = (Array("first member, ".utf8), Array(repeating: UInt8(ascii: "z"), count: 70_000))
    let twoMembers = gzip(a) + gzip(b, level: 9)
    #expect(try Gzip.decompress(twoMembers) == a + b)
    #expect(try Gzip.decompress(twoMembers + [0, 0, 0]) == a + b)
    #expect(try Gzip.decompress(gzip([]) + gzip(a)) == a)
    // Cut just after the first member's magic byte: the second member is truncated.
    let cut = datasetError { try Gzip.decompress(gzip(a) + [0x1F]) }
    #expect(cut == .corruptCompressedData(file: "<memory>", reason: InflateError.truncated.reason))
  }

  @Test func limitStopsBeforeAHugeOutput() throws {
    // 64 MB of zeros in about 64 KB: the limit stops decoding after 1 KB.
    let bomb = gzip([UInt8](repeating: 0, count: 64 << 20), level: 9)
    #expect(bomb.count < 100_000)
    let (prefix, reachedLimit) = try Gzip.decompress(bomb, file: "bomb.gz", limit: 1024)
    #expect(reachedLimit && prefix == [UInt8](repeating: 0, count: 1024))
    let error = datasetError { try Gzip.decompress(bomb, file: "bomb.gz", maxOutputBytes: 1 << 20) }
    #expect(error == .decompressedSizeExceedsLimit(file: "bomb.gz", limit: 1 << 20))
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
    let expected = Array("abababababababab".utf8.prefix(14))
    #expect(try Zlib.decompress(zlibStream(deflate: writer.bytes, output: expected)) == expected)
  }

  /// Hand-made DEFLATE streams that break RFC 1951: each is a `corruptCompressedData` error
  /// that keeps zlib's reason.
  @Test func brokenDeflateStreamsKeepZlibsReason() {
    var farBack = BitWriter()
    farBack.write(1, bits: 1)
    farBack.write(1, bits: 2)
    writeFixed(Int(UInt8(ascii: "a")), to: &farBack)
    writeFixed(257, to: &farBack)  // length 3
    farBack.writeCode(1, length: 5)  // distance 2, but only 1 byte so far
    writeFixed(256, to: &farBack)

    var badType = BitWriter()
    badType.write(1, bits: 1)
    badType.write(3, bits: 2)
    badType.write(0, bits: 13)

    var badLength = BitWriter()
    badLength.write(1, bits: 1)
    badLength.write(1, bits: 2)
    writeFixed(286, to: &badLength)
    badLength.write(0, bits: 24)

    var badNLEN = BitWriter()
    badNLEN.write(1, bits: 3)  // final stored block
    badNLEN.write(0, bits: 5)
    badNLEN.write(5, bits: 16)
    badNLEN.write(5, bits: 16)
    badNLEN.write(0, bits: 40)

    var tooManyCodes = BitWriter()
    tooManyCodes.write(1, bits: 1)
    tooManyCodes.write(2, bits: 2)
    tooManyCodes.write(30, bits: 5)  // HLIT 287
    tooManyCodes.write(0, bits: 40)

    let cases: [(BitWriter, String)] = [
      (farBack, "invalid distance too far back"), (badType, "invalid block type"),
      (badLength, "invalid literal/length code"), (badNLEN, "invalid stored block lengths"),
      (tooManyCodes, "too many length or distance symbols"),
    ]
    for (writer, reason) in cases {
      let error = datasetError { try Zlib.decompress(zlibStream(deflate: writer.bytes, output: []), file: "z") }
      guard case .corruptCompressedData(let file, let found) = error else {
        Issue.record("\(reason): got \(String(describing: error))")
        continue
      }
      #expect(file == "z" && found.hasPrefix(reason), "\(found)")
      #expect(error?.hint.contains("download it again") == true)
    }
  }

  @Test func emptyAndTruncatedStreamsAreTruncated() {
    var stored = BitWriter()
    stored.write(1, bits: 3)
    stored.write(0, bits: 5)
    stored.write(100, bits: 16)
    stored.write(~100 & 0xFFFF, bits: 16)
    let truncated = DatasetError.corruptCompressedData(file: "<memory>", reason: InflateError.truncated.reason)
    for bytes in [[], [0x78], [0x78, 0x01], [0x78, 0x01] + stored.bytes + [1, 2, 3]] {
      #expect(datasetError { try Zlib.decompress(bytes) } == truncated, "\(bytes.count) bytes")
    }
    for bytes in [[], [0x1F], [0x1F, 0x8B], Array(storedGzip([1, 2, 3]).dropLast(1))] {
      #expect(datasetError { try Gzip.decompress(bytes) } == truncated, "\(bytes.count) bytes")
    }
  }
}
