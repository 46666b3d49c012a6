import CNNKernels

/// Reads PNG files into 8-bit ``Image``s.
///
/// Supported: every colour type (grey, RGB, palette, grey + alpha, RGBA) at every bit depth
/// the standard allows (1, 2, 4, 8 and 16 bits; 16-bit samples are rounded to 8 bits, low
/// depths are scaled up, palettes are expanded to RGB, or RGBA with a `tRNS` chunk), all five
/// row filters, and `tRNS` transparency. Not supported: Adam7 interlacing (rejected with a hint).
///
/// Every chunk's CRC-32 is checked, chunk order is enforced (IHDR first, PLTE before IDAT,
/// IDATs consecutive, IEND last), and the image data must decompress to exactly the size
/// the header implies. Each failure throws a ``PNGError`` that names the problem and a fix.
public enum PNGDecoder {
  /// Decodes a whole PNG file.
  ///
  /// - Parameters:
  ///   - bytes: The file's bytes.
  ///   - file: The name to use in errors.
  /// - Returns: The image, with 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels.
  public static func decode(_ bytes: [UInt8], file: String = "<memory>") throws(PNGError) -> Image {
    guard bytes.count >= 8, bytes.starts(with: PNG.signature) else {
      throw .badSignature(file: file, found: Array(bytes.prefix(8)))
    }
    let chunks = try readChunks(bytes, file: file)
    let header = try Header(chunks, file: file)
    try checkSize(header, file: file)
    let data = try inflate(chunks, header: header, file: file)
    let samples = try unfilter(data, header: header, file: file)
    return try expand(samples, header: header, chunks: chunks, file: file)
  }

  // MARK: - Chunks

  struct Chunk {
    var type: String
    var offset: Int
    var data: ArraySlice<UInt8>
  }

  /// Splits the file into chunks, checking lengths, CRCs and order, up to IEND.
  static func readChunks(_ bytes: [UInt8], file: String) throws(PNGError) -> [Chunk] {
    var chunks: [Chunk] = []
    var offset = 8
    var sawIEND = false
    var lastIDAT: Int?
    while offset < bytes.count {
      guard bytes.count - offset >= 8 else {
        throw .truncatedChunk(file: file, type: "header", offset: offset)
      }
      let length = Int(bigEndian32(bytes, offset))
      let type = PNG.typeName(bytes[(offset + 4)..<(offset + 8)])
      guard length <= Int(Int32.max) else {
        throw .malformed(file: file, reason: "chunk \(type) at byte \(offset) claims \(length) bytes (more than 2^31 − 1)")
      }
      guard bytes.count - offset - 12 >= length else {
        throw .truncatedChunk(file: file, type: type, offset: offset)
      }
      let stored = bigEndian32(bytes, offset + 8 + length)
      let computed = bytes.withUnsafeBufferPointer {
        Zlib.crc32(UnsafeBufferPointer(rebasing: $0[(offset + 4)..<(offset + 8 + length)]))
      }
      guard stored == computed else {
        throw .badCRC(file: file, type: type, offset: offset, stored: stored, computed: computed)
      }
      let chunk = Chunk(type: type, offset: offset, data: bytes[(offset + 8)..<(offset + 8 + length)])
      if chunks.isEmpty && type != "IHDR" { throw .missingChunk(file: file, type: "IHDR (it must come first; found \(type))") }
      if type == "IHDR" && !chunks.isEmpty { throw .malformed(file: file, reason: "a second IHDR chunk at byte \(offset)") }
      if type == "IDAT" {
        if let lastIDAT, lastIDAT != chunks.count - 1 {
          throw .malformed(file: file, reason: "IDAT chunks are not consecutive (another IDAT at byte \(offset))")
        }
        lastIDAT = chunks.count
      }
      if type == "PLTE" && lastIDAT != nil { throw .malformed(file: file, reason: "PLTE comes after IDAT") }
      if let first = type.unicodeScalars.first, (65...90).contains(first.value),
        !["IHDR", "PLTE", "IDAT", "IEND"].contains(type)
      {
        throw .malformed(file: file, reason: "unknown critical chunk \(type) at byte \(offset)")
      }
      chunks.append(chunk)
      offset += 12 + length
      if type == "IEND" {
        sawIEND = true
        break
      }
    }
    if chunks.isEmpty { throw .missingChunk(file: file, type: "IHDR") }
    if lastIDAT == nil { throw .missingChunk(file: file, type: "IDAT") }
    if !sawIEND { throw .missingChunk(file: file, type: "IEND (the file ends early)") }
    return chunks
  }

  /// The fields of IHDR.
  struct Header {
    var width: Int
    var height: Int
    var bitDepth: Int
    var colorType: PNGColorType

    /// Bits per pixel in the file.
    var bitsPerPixel: Int { bitDepth * colorType.samplesPerPixel }
    /// Bytes per filtered row, without the filter byte.
    var rowBytes: Int { (width * bitsPerPixel + 7) / 8 }
    /// The byte distance the filters look back: whole pixels, at least 1.
    var filterStride: Int { max(1, bitsPerPixel / 8) }

    init(_ chunks: [Chunk], file: String) throws(PNGError) {
      let data = Array(chunks[0].data)
      guard data.count == 13 else {
        throw .malformed(file: file, reason: "IHDR has \(data.count) bytes, expected 13")
      }
      width = Int(bigEndian32(data, 0))
      height = Int(bigEndian32(data, 4))
      guard width > 0 && height > 0 else {
        throw .malformed(file: file, reason: "image size \(width)×\(height) must be positive")
      }
      guard width <= PNG.maxDimension && height <= PNG.maxDimension else {
        throw .tooLarge(file: file, width: width, height: height)
      }
      guard let type = PNGColorType(rawValue: data[9]) else {
        throw .unsupportedColorType(file: file, code: data[9])
      }
      colorType = type
      bitDepth = Int(data[8])
      guard type.allowedBitDepths.contains(bitDepth) else {
        throw .unsupportedBitDepth(file: file, bitDepth: bitDepth, colorType: type.name, allowed: type.allowedBitDepths)
      }
      guard data[10] == 0 else { throw .malformed(file: file, reason: "compression method \(data[10]) is not 0 (deflate)") }
      guard data[11] == 0 else { throw .malformed(file: file, reason: "filter method \(data[11]) is not 0 (adaptive)") }
      switch data[12] {
      case 0: break
      case 1: throw .interlaced(file: file)
      default: throw .malformed(file: file, reason: "interlace method \(data[12]) is not 0 or 1")
      }
    }
  }

  // MARK: - Image data

  /// Refuses an image whose declared size exceeds ``PNG/maxPixels`` or whose decode would
  /// exceed `MemoryBudget`, before anything is inflated.
  static func checkSize(_ header: Header, file: String) throws(PNGError) {
    guard header.width * header.height <= PNG.maxPixels else {
      throw .tooLarge(file: file, width: header.width, height: header.height)
    }
    do {
      try MemoryBudget.check(
        MemoryBudget.bytes([header.height, header.rowBytes + 1, PNG.decodeBytesPerByte]),
        for: "decoding the image", from: "its header: \(header.width)×\(header.height) pixels")
    } catch {
      throw .memoryBudget(file: file, error)
    }
  }

  /// Concatenates the IDAT chunks and inflates them to exactly `height · (1 + rowBytes)` bytes,
  /// allocated once, after checking that the compressed data could hold that many.
  static func inflate(_ chunks: [Chunk], header: Header, file: String) throws(PNGError) -> [UInt8] {
    var stream: [UInt8] = []
    for chunk in chunks where chunk.type == "IDAT" { stream += chunk.data }
    let expected = header.height * (header.rowBytes + 1)
    guard expected <= PNG.maxDataBytes else { throw .tooLarge(file: file, width: header.width, height: header.height) }
    let most = Zlib.maxDecompressedCount(compressedCount: stream.count)
    guard expected <= most else {
      throw .corruptImageData(
        file: file, reason: "a \(header.width)×\(header.height) image needs \(expected) bytes, but \(stream.count) "
          + "bytes of IDAT data decompress to at most \(most)")
    }
    let data: [UInt8]
    do {
      data = try Zlib.decompress(stream, file: file, maxOutputBytes: expected, expectedBytes: expected)
    } catch .corruptCompressedData(_, let reason) {
      throw .corruptImageData(file: file, reason: reason)
    } catch .decompressedSizeExceedsLimit {
      throw .corruptImageData(file: file, reason: "the IDAT data holds more than the \(expected) bytes a \(header.width)×\(header.height) image needs")
    } catch {
      throw .corruptImageData(file: file, reason: error.description)
    }
    guard data.count == expected else {
      throw .corruptImageData(
        file: file, reason: "the IDAT data holds \(data.count) bytes; a \(header.width)×\(header.height) image needs \(expected)")
    }
    return data
  }

  /// Undoes the row filters; returns `height · rowBytes` raw sample bytes.
  static func unfilter(_ data: [UInt8], header: Header, file: String) throws(PNGError) -> [UInt8] {
    let rowBytes = header.rowBytes, bpp = header.filterStride
    var out = [UInt8](repeating: 0, count: header.height * rowBytes)
    var badRow: (Int, UInt8)?
    data.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { target in
        for y in 0..<header.height {
          let filter = source[y * (rowBytes + 1)]
          let input = y * (rowBytes + 1) + 1, row = y * rowBytes, above = row - rowBytes
          switch filter {
          case 0:
            for i in 0..<rowBytes { target[row + i] = source[input + i] }
          case 1:
            for i in 0..<rowBytes {
              target[row + i] = source[input + i] &+ (i >= bpp ? target[row + i - bpp] : 0)
            }
          case 2:
            for i in 0..<rowBytes { target[row + i] = source[input + i] &+ (y > 0 ? target[above + i] : 0) }
          case 3:
            for i in 0..<rowBytes {
              let a = Int(i >= bpp ? target[row + i - bpp] : 0), b = Int(y > 0 ? target[above + i] : 0)
              target[row + i] = source[input + i] &+ UInt8((a + b) / 2)
            }
          case 4:
            for i in 0..<rowBytes {
              let a = i >= bpp ? target[row + i - bpp] : 0
              let b = y > 0 ? target[above + i] : 0
              let c = i >= bpp && y > 0 ? target[above + i - bpp] : 0
              target[row + i] = source[input + i] &+ PNG.paeth(a, b, c)
            }
          default:
            badRow = (y, filter)
            return
          }
        }
      }
    }
    if let (row, filter) = badRow { throw .badFilterType(file: file, row: row, filter: filter) }
    return out
  }

  // MARK: - Samples to 8-bit pixels

  /// Converts raw samples to 8-bit channels: scales low and high depths, expands palettes,
  /// and turns a `tRNS` chunk into an alpha channel.
  static func expand(_ raw: [UInt8], header: Header, chunks: [Chunk], file: String) throws(PNGError) -> Image {
    let width = header.width, height = header.height, depth = header.bitDepth
    let samplesPerPixel = header.colorType.samplesPerPixel
    let transparency = chunks.first { $0.type == "tRNS" }.map { Array($0.data) }
    // The samples as 16-bit values at the file's depth, one per sample.
    func sample(_ row: Int, _ index: Int) -> Int {
      let base = row * header.rowBytes
      switch depth {
      case 16: return Int(raw[base + 2 * index]) << 8 | Int(raw[base + 2 * index + 1])
      case 8: return Int(raw[base + index])
      default:
        let bit = index * depth
        let byte = raw[base + bit / 8]
        return Int(byte) >> (8 - depth - bit % 8) & ((1 << depth) - 1)
      }
    }
    let maxValue = (1 << depth) - 1
    func to8(_ value: Int) -> UInt8 {
      depth == 8 ? UInt8(value) : UInt8((value * 255 + maxValue / 2) / maxValue)
    }

    if header.colorType == .palette {
      guard let plte = chunks.first(where: { $0.type == "PLTE" }).map({ Array($0.data) }) else {
        throw .missingChunk(file: file, type: "PLTE (required for palette images)")
      }
      guard plte.count % 3 == 0 && !plte.isEmpty && plte.count <= 768 else {
        throw .malformed(file: file, reason: "PLTE has \(plte.count) bytes; it must hold 1 to 256 entries of 3 bytes")
      }
      let entries = plte.count / 3
      let alphas = transparency ?? []
      guard alphas.count <= entries else {
        throw .malformed(file: file, reason: "tRNS has \(alphas.count) alphas for \(entries) palette entries")
      }
      let channels = alphas.isEmpty ? 3 : 4
      var pixels = [UInt8](repeating: 0, count: width * height * channels)
      for y in 0..<height {
        for x in 0..<width {
          let index = sample(y, x)
          guard index < entries else {
            throw .malformed(file: file, reason: "pixel (\(x), \(y)) uses palette index \(index) of \(entries)")
          }
          let target = (y * width + x) * channels
          pixels[target] = plte[3 * index]
          pixels[target + 1] = plte[3 * index + 1]
          pixels[target + 2] = plte[3 * index + 2]
          if channels == 4 { pixels[target + 3] = index < alphas.count ? alphas[index] : 255 }
        }
      }
      return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    // A tRNS chunk on grey or RGB names one fully transparent colour.
    var transparent: [Int]?
    if let transparency, header.colorType == .grey || header.colorType == .rgb {
      guard transparency.count == 2 * samplesPerPixel else {
        throw .malformed(file: file, reason: "tRNS has \(transparency.count) bytes, expected \(2 * samplesPerPixel)")
      }
      transparent = (0..<samplesPerPixel).map {
        (Int(transparency[2 * $0]) << 8 | Int(transparency[2 * $0 + 1])) & maxValue
      }
    }
    let channels = samplesPerPixel + (transparent == nil ? 0 : 1)
    if depth == 8 && transparent == nil { return Image(width: width, height: height, channels: channels, pixels: raw) }
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    var values = [Int](repeating: 0, count: samplesPerPixel)
    for y in 0..<height {
      for x in 0..<width {
        let target = (y * width + x) * channels
        for s in 0..<samplesPerPixel {
          values[s] = sample(y, x * samplesPerPixel + s)
          pixels[target + s] = to8(values[s])
        }
        if let transparent { pixels[target + samplesPerPixel] = values == transparent ? 0 : 255 }
      }
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
  }
}

/// The big-endian `UInt32` at `offset` (the caller checked that 4 bytes are there).
func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
  UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
    | UInt32(bytes[offset + 3])
}

extension Image {
  /// Decodes a PNG file's bytes (see ``PNGDecoder``).
  public init(pngData bytes: [UInt8], file: String = "<memory>") throws(PNGError) {
    self = try PNGDecoder.decode(bytes, file: file)
  }
}
