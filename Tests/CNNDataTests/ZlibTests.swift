import Testing

@testable import CNNData

@Suite struct ZlibTests {
  static let inputs: [[UInt8]] = [
    [],
    [42],
    Array(repeating: 7, count: 100_000),
    (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 31 ^ $0 >> 7) },
    Array("abcabcabcabd hello hello hello world".utf8),
  ]

  @Test func checksumsMatchTheirCheckValues() {
    let digits = Array("123456789".utf8)
    #expect(Zlib.crc32(digits) == 0xCBF4_3926)  // the CRC-32 check value (ISO 3309)
    #expect(Zlib.crc32([]) == 0)
    #expect(Zlib.crc32(Array(digits[4...]), continuing: Zlib.crc32(Array(digits[..<4]))) == 0xCBF4_3926)
    #expect(Zlib.crc32([], continuing: 0x1234_5678) == 0x1234_5678)
    #expect(Zlib.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)  // RFC 1950's example
    #expect(Zlib.adler32([]) == 1)
    #expect(Zlib.adler32(Array(digits[3...]), continuing: Zlib.adler32(Array(digits[..<3]))) == Zlib.adler32(digits))
  }

  @Test(arguments: [0, 1, 6, 9])
  func compressionRoundTrips(level: Int) throws {
    for input in Self.inputs {
      for strategy in [Zlib.Strategy.default, .filtered] {
        let stream = Zlib.compress(input, level: level, strategy: strategy)
        #expect(stream[0] & 0x0F == 8 && (UInt16(stream[0]) << 8 | UInt16(stream[1])) % 31 == 0)
        #expect(try Zlib.decompress(stream) == input, "level \(level), \(input.count) bytes")
      }
    }
  }

  @Test func compressionShrinksRepetitiveData() {
    let runs = [UInt8](repeating: 7, count: 100_000)
    #expect(Zlib.compress(runs).count < 1000)
    #expect(Zlib.compress(runs, level: 0).count > 100_000)  // stored blocks
    let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog ", count: 200).utf8)
    #expect(Zlib.compress(text, level: 9).count < text.count / 20)
  }

  @Test func damageIsReportedWithTheChecksumThatCaughtIt() {
    let input = Array("hello, hello, hello world".utf8)
    var stream = Zlib.compress(input)
    stream[stream.count - 1] ^= 0x01  // the Adler-32
    let error = datasetError { try Zlib.decompress(stream, file: "z") }
    guard case .corruptCompressedData(let file, let reason) = error else {
      Issue.record("expected corruptCompressedData, got \(String(describing: error))")
      return
    }
    #expect(file == "z" && reason.contains("Adler-32 mismatch"))

    var header = Zlib.compress(input)
    header[1] ^= 0x01  // FCHECK no longer makes the header a multiple of 31
    guard case .corruptCompressedData(_, let headerReason) = datasetError({ try Zlib.decompress(header) }) else {
      Issue.record("expected corruptCompressedData for a bad header")
      return
    }
    #expect(headerReason.hasPrefix("incorrect header check"))

    // FDICT set (and FCHECK fixed up): PNG forbids preset dictionaries.
    let dictionary: [UInt8] = [0x78, 0xBB, 0, 0, 0, 1] + Array(Zlib.compress(input).dropFirst(2))
    guard case .corruptCompressedData(_, let reason) = datasetError({ try Zlib.decompress(dictionary) }) else {
      Issue.record("expected corruptCompressedData for FDICT")
      return
    }
    #expect(reason.contains("preset dictionary"))
  }

  @Test func limitsAndExpectedSizes() throws {
    let input = Self.inputs[3]
    let stream = Zlib.compress(input)
    let error = datasetError { try Zlib.decompress(stream, file: "z", maxOutputBytes: input.count - 1) }
    #expect(error == .decompressedSizeExceedsLimit(file: "z", limit: input.count - 1))
    #expect(try Zlib.decompress(stream, maxOutputBytes: input.count) == input)
    // The expected size only sizes the first allocation: too small, too large or absurd.
    for expected in [0, 10, input.count, input.count + 1, Int.max] {
      #expect(try Zlib.decompress(stream, expectedBytes: expected) == input, "\(expected)")
    }
    #expect(try Zlib.decompress(stream + [1, 2, 3]) == input)  // bytes after the stream are ignored
  }

  @Test func decompressedSizeBoundIsDeflatesMaximumRatio() {
    #expect(Zlib.maxDecompressedCount(compressedCount: 0) == 1024)
    #expect(Zlib.maxDecompressedCount(compressedCount: 1000) == 1_033_024)
    #expect(Zlib.maxDecompressedCount(compressedCount: .max / 2) == .max)
    let zeros = [UInt8](repeating: 0, count: 1 << 22)
    #expect(Zlib.maxDecompressedCount(compressedCount: Zlib.compress(zeros, level: 9).count) >= zeros.count)
  }
}
