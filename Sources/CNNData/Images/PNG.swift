import CNNKernels
// PNG (ISO/IEC 15948, W3C PNG 3rd edition) as CNNKit reads and writes it:
//
//   89 50 4E 47 0D 0A 1A 0A                          signature
//   then chunks:  length(4, big-endian)  type(4)  data(length)  CRC-32(type + data)
//   IHDR  width(4) height(4) bitDepth colourType compression(0) filter(0) interlace
//   PLTE  palette entries, 3 bytes each (colour type 3)
//   tRNS  transparency (palette alphas, or one transparent grey/RGB value)
//   IDAT… one zlib stream, split over consecutive IDAT chunks
//   IEND  empty
//
// The zlib stream holds, per row, one filter-type byte (0 None, 1 Sub, 2 Up, 3 Average,
// 4 Paeth) followed by the filtered row bytes.

/// PNG's colour types (IHDR byte 9), with the channels each decodes to.
public enum PNGColorType: UInt8, Sendable, CaseIterable {
  case grey = 0
  case rgb = 2
  case palette = 3
  case greyAlpha = 4
  case rgba = 6

  /// Samples per pixel in the file (a palette index is one sample).
  var samplesPerPixel: Int {
    switch self {
    case .grey, .palette: return 1
    case .greyAlpha: return 2
    case .rgb: return 3
    case .rgba: return 4
    }
  }

  /// The bit depths the PNG standard allows for this colour type.
  var allowedBitDepths: [Int] {
    switch self {
    case .grey: return [1, 2, 4, 8, 16]
    case .palette: return [1, 2, 4, 8]
    case .rgb, .greyAlpha, .rgba: return [8, 16]
    }
  }

  /// The colour type that stores `channels` interleaved channels.
  init(channels: Int) {
    switch channels {
    case 1: self = .grey
    case 2: self = .greyAlpha
    case 3: self = .rgb
    default: self = .rgba
    }
  }

  var name: String {
    switch self {
    case .grey: return "greyscale"
    case .rgb: return "RGB"
    case .palette: return "palette"
    case .greyAlpha: return "greyscale + alpha"
    case .rgba: return "RGBA"
    }
  }
}

/// Constants shared by the encoder and the decoder.
enum PNG {
  /// The eight bytes every PNG file starts with.
  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
  /// The largest width or height accepted when decoding (the standard allows 2³¹ − 1).
  static let maxDimension = 1 << 16
  /// The largest decoded image accepted, in bytes of filtered data (1 GiB).
  static let maxDataBytes = 1 << 30
  /// The most pixels a decoded image may have: 2²⁸, a 16384×16384 image. Zeros compress
  /// about a thousandfold, so a 1 MB file can declare 32000×32000 pixels; like Pillow's
  /// decompression-bomb guard (`MAX_IMAGE_PIXELS`), this refuses such a file before inflating it.
  static let maxPixels = 1 << 28
  /// Bytes of memory a decode plans per byte of the decoded image: the inflated rows, the
  /// unfiltered samples and the expanded pixels.
  static let decodeBytesPerByte = 3

  /// The Paeth predictor of the PNG standard (§9.4): whichever of left `a`, above `b` and
  /// upper-left `c` is closest to `a + b − c`, ties broken in that order.
  @inline(__always)
  static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
    let p = Int(a) + Int(b) - Int(c)
    let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
    if pa <= pb && pa <= pc { return a }
    return pb <= pc ? b : c
  }

  /// The four ASCII letters of a chunk type, for messages (`IHDR`, or hex if not letters).
  static func typeName(_ bytes: some Collection<UInt8>) -> String {
    if bytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) {
      return String(decoding: bytes, as: UTF8.self)
    }
    return bytes.map { byte in
      let digits = String(byte, radix: 16, uppercase: true)
      return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
  }
}

/// Why a PNG file could not be read: what is wrong, and (``hint``) how to fix it.
///
/// ``description`` ends with the hint, as every CNNKit file-format error does:
///
///     photo.png: CRC mismatch in chunk IDAT at byte 8243: stored 0x1C2D3E4F, computed 0x89ABCDEF.
///     ---> HINT: the file is damaged (an interrupted download or copy); get it again.
public enum PNGError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file does not start with the PNG signature; `found` is what it starts with.
  case badSignature(file: String, found: [UInt8])
  /// A chunk's length runs past the end of the file, or the file ends inside one.
  case truncatedChunk(file: String, type: String, offset: Int)
  /// A chunk's stored CRC-32 does not match its type and data.
  case badCRC(file: String, type: String, offset: Int, stored: UInt32, computed: UInt32)
  /// A required chunk is absent (`IHDR` first, at least one `IDAT`, `PLTE` for palettes, `IEND`).
  case missingChunk(file: String, type: String)
  /// A chunk breaks the standard (wrong size, wrong order, bad field value); `reason` says how.
  case malformed(file: String, reason: String)
  /// The bit depth is not one PNG allows for this colour type.
  case unsupportedBitDepth(file: String, bitDepth: Int, colorType: String, allowed: [Int])
  /// The colour type byte is not 0, 2, 3, 4 or 6.
  case unsupportedColorType(file: String, code: UInt8)
  /// Adam7-interlaced images are not decoded.
  case interlaced(file: String)
  /// The image is wider or taller than the decoder accepts.
  case tooLarge(file: String, width: Int, height: Int)
  /// Decoding the declared size would exceed `MemoryBudget`.
  case memoryBudget(file: String, MemoryBudgetError)
  /// The zlib stream in the IDAT chunks is damaged, or holds the wrong amount of data.
  case corruptImageData(file: String, reason: String)
  /// A row starts with a filter type other than 0–4.
  case badFilterType(file: String, row: Int, filter: UInt8)

  /// How to fix the problem, in one sentence.
  public var hint: String {
    switch self {
    case .badSignature(_, let found):
      if found.starts(with: [0x50]) && found.count > 1 && (0x31...0x36).contains(found[1]) {
        return "this is a netpbm file (P\(found[1] - 0x30)); read it with Image.read(from:), which knows the format by its extension."
      }
      if found.starts(with: [0xFF, 0xD8]) { return "this is a JPEG; convert it to PNG first." }
      return "this is not a PNG file; check the path, or convert the image to PNG."
    case .truncatedChunk, .badCRC, .missingChunk, .corruptImageData, .badFilterType:
      return "the file is damaged or incomplete (an interrupted download or copy); get it again or re-export it."
    case .malformed:
      return "the writer of this file broke the PNG standard; re-export it from another program."
    case .unsupportedBitDepth:
      return "re-export the image as an 8-bit PNG."
    case .unsupportedColorType:
      return "the colour type byte is damaged or not PNG; re-export the image as an 8-bit RGB or greyscale PNG."
    case .interlaced:
      return "re-save the image without interlacing (e.g. `convert in.png -interlace none out.png`, or untick \"interlaced\" when exporting)."
    case .tooLarge:
      return "scale the image down (at most \(PNG.maxDimension) pixels per side and \(PNG.maxPixels) pixels in all)."
    case .memoryBudget(_, let error):
      return error.hint
    }
  }

  /// What went wrong, where, and (after `---> HINT:`) how to fix it.
  public var description: String { "\(problem)\n---> HINT: \(hint)" }

  private var problem: String {
    switch self {
    case .badSignature(let file, let found):
      let bytes = found.prefix(8).map { byte -> String in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
      }.joined(separator: " ")
      return "\(file): not a PNG file: it starts with \(bytes.isEmpty ? "nothing (empty file)" : bytes), "
        + "expected 89 50 4E 47 0D 0A 1A 0A."
    case .truncatedChunk(let file, let type, let offset):
      return "\(file): truncated: chunk \(type) at byte \(offset) runs past the end of the file."
    case .badCRC(let file, let type, let offset, let stored, let computed):
      return "\(file): CRC mismatch in chunk \(type) at byte \(offset): stored \(hex(stored)), computed \(hex(computed))."
    case .missingChunk(let file, let type):
      return "\(file): missing \(type) chunk."
    case .malformed(let file, let reason):
      return "\(file): malformed PNG: \(reason)."
    case .unsupportedBitDepth(let file, let depth, let type, let allowed):
      return "\(file): bit depth \(depth) is not valid for \(type) images (allowed: "
        + allowed.map(String.init).joined(separator: ", ") + ")."
    case .unsupportedColorType(let file, let code):
      return "\(file): unknown colour type \(code) (PNG has 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA)."
    case .interlaced(let file):
      return "\(file): Adam7-interlaced PNGs are not supported."
    case .tooLarge(let file, let width, let height):
      return "\(file): image of \(width)×\(height) pixels is too large (at most \(PNG.maxDimension) per side "
        + "and \(PNG.maxPixels) pixels)."
    case .memoryBudget(let file, let error):
      return "\(file): \(error.problem)"
    case .corruptImageData(let file, let reason):
      return "\(file): corrupt image data: \(reason)."
    case .badFilterType(let file, let row, let filter):
      return "\(file): row \(row) has filter type \(filter); PNG defines 0 to 4."
    }
  }
}

/// `0x1C2D3E4F`.
func hex(_ value: UInt32) -> String {
  let digits = String(value, radix: 16, uppercase: true)
  return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
