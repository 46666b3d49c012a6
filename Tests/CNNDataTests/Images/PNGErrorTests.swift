import CNNData
import Testing

@testable import CNNData

@Suite struct PNGErrorTests {
  static let good = testImage(width: 6, height: 4, channels: 3).pngData()
  static let header: [UInt8] = [0, 0, 0, 6, 0, 0, 0, 4, 8, 2, 0, 0, 0]
  static let idat = Zlib.compress([UInt8](repeating: 0, count: 4 * 19))

  @Test func rejectsABadSignature() {
    let error = pngError { try PNGDecoder.decode(Array("GIF89a....".utf8), file: "x.png") }
    guard case .badSignature(let file, _) = error else { Issue.record("got \(String(describing: error))"); return }
    #expect(file == "x.png")
    #expect(error?.description.contains("not a PNG file") == true)
    #expect(error?.description.contains("HINT") == true)
  }

  @Test func namesNetpbmFilesInTheHint() {
    let error = pngError { try PNGDecoder.decode(Array("P5\n2 2\n255\nabcd".utf8)) }
    #expect(error?.hint.contains("netpbm") == true)
  }

  @Test func rejectsABadCRC() {
    var bytes = Self.good
    bytes[8 + 8 + 3] ^= 0x01  // a byte of IHDR's data
    let error = pngError { try PNGDecoder.decode(bytes) }
    guard case .badCRC(_, let type, let offset, _, _) = error else { Issue.record("got \(String(describing: error))"); return }
    #expect(type == "IHDR" && offset == 8)
  }

  @Test func rejectsATruncatedChunk() {
    let bytes = Array(Self.good.prefix(Self.good.count - 20))
    let error = pngError { try PNGDecoder.decode(bytes) }
    guard case .truncatedChunk(_, let type, _) = error else { Issue.record("got \(String(describing: error))"); return }
    #expect(type == "IDAT")
  }

  @Test func rejectsAMissingIHDR() {
    let bytes = PNG.signature + chunk("IDAT", Self.idat) + chunk("IEND", [])
    guard case .missingChunk(_, let type) = pngError({ try PNGDecoder.decode(bytes) }) else {
      Issue.record("expected missingChunk"); return
    }
    #expect(type.hasPrefix("IHDR"))
  }

  @Test func rejectsAMissingIDAT() {
    let bytes = PNG.signature + chunk("IHDR", Self.header) + chunk("IEND", [])
    #expect(pngError { try PNGDecoder.decode(bytes) } == .missingChunk(file: "<memory>", type: "IDAT"))
  }

  @Test func rejectsAnUnsupportedBitDepth() {
    var header = Self.header
    header[8] = 4  // 4-bit RGB does not exist
    let bytes = PNG.signature + chunk("IHDR", header) + chunk("IDAT", Self.idat) + chunk("IEND", [])
    let error = pngError { try PNGDecoder.decode(bytes) }
    #expect(error == .unsupportedBitDepth(file: "<memory>", bitDepth: 4, colorType: "RGB", allowed: [8, 16]))
    #expect(error?.description.contains("bit depth 4") == true)
  }

  @Test func rejectsInterlacedImagesWithAHint() {
    var header = Self.header
    header[12] = 1
    let bytes = PNG.signature + chunk("IHDR", header) + chunk("IDAT", Self.idat) + chunk("IEND", [])
    let error = pngError { try PNGDecoder.decode(bytes) }
    #expect(error == .interlaced(file: "<memory>"))
    #expect(error?.hint.contains("interlac") == true)
  }

  @Test func rejectsTooLittleImageData() {
    let short = Zlib.compress([UInt8](repeating: 0, count: 3 * 19))
    let bytes = PNG.signature + chunk("IHDR", Self.header) + chunk("IDAT", short) + chunk("IEND", [])
    guard case .corruptImageData(_, let reason) = pngError({ try PNGDecoder.decode(bytes) }) else {
      Issue.record("expected corruptImageData"); return
    }
    #expect(reason.contains("57") && reason.contains("76"))
  }

  /// 16000×16000 grey needs 256 MB, which 70-odd bytes of IDAT cannot hold: rejected before
  /// anything that size is allocated or inflated. (Beyond `PNG.maxPixels`, such as 30000×30000,
  /// the header alone is refused: `InputLiesTests`.)
  @Test func rejectsImageDataTooSmallForTheHeader() {
    let header: [UInt8] = [0, 0, 0x3E, 0x80, 0, 0, 0x3E, 0x80, 8, 0, 0, 0, 0]
    let bytes = PNG.signature + chunk("IHDR", header) + chunk("IDAT", Self.idat) + chunk("IEND", [])
    guard case .corruptImageData(_, let reason) = pngError({ try PNGDecoder.decode(bytes) }) else {
      Issue.record("expected corruptImageData"); return
    }
    #expect(reason.contains("256016000") && reason.contains("at most"))
  }

  @Test func rejectsTooMuchImageData() {
    let long = Zlib.compress([UInt8](repeating: 0, count: 5 * 19))
    let bytes = PNG.signature + chunk("IHDR", Self.header) + chunk("IDAT", long) + chunk("IEND", [])
    guard case .corruptImageData(_, let reason) = pngError({ try PNGDecoder.decode(bytes) }) else {
      Issue.record("expected corruptImageData"); return
    }
    #expect(reason.contains("holds more than the 76 bytes"))
  }

  @Test func rejectsABadFilterType() {
    var raw = [UInt8](repeating: 0, count: 4 * 19)
    raw[19] = 9
    let bytes = PNG.signature + chunk("IHDR", Self.header) + chunk("IDAT", Zlib.compress(raw)) + chunk("IEND", [])
    #expect(pngError { try PNGDecoder.decode(bytes) } == .badFilterType(file: "<memory>", row: 1, filter: 9))
  }

  @Test func rejectsDamagedCompressedData() {
    var stream = Self.idat
    stream[stream.count - 1] ^= 0xFF  // the Adler-32
    let bytes = PNG.signature + chunk("IHDR", Self.header) + chunk("IDAT", stream) + chunk("IEND", [])
    guard case .corruptImageData(_, let reason) = pngError({ try PNGDecoder.decode(bytes) }) else {
      Issue.record("expected corruptImageData"); return
    }
    #expect(reason.contains("Adler-32"))
  }
}
