
/// Writes 8-bit PNG files: greyscale, grey + alpha, RGB, RGBA, or palette.
///
/// Each row gets the filter (None, Sub, Up, Average or Paeth) whose output has the smallest
/// sum of absolute values, the heuristic the PNG standard recommends (§12.8); the filtered
/// rows are compressed by the system zlib at its default level 6 with its `Z_FILTERED`
/// strategy, as libpng does (`CNNData.Zlib.compress`).
public struct PNGEncoder: Sendable {
  /// Whether to write a palette image (colour type 3) when the picture has at most 256
  /// distinct colours; decoding gives back the same RGB or RGBA pixels.
  public var usesPaletteWhenPossible: Bool

  /// Creates an encoder; palettes are used when possible unless told otherwise.
  public init(usesPaletteWhenPossible: Bool = true) {
    self.usesPaletteWhenPossible = usesPaletteWhenPossible
  }

  /// The PNG file for `image`.
  public func encode(_ image: Image) -> [UInt8] {
    if usesPaletteWhenPossible && image.channels >= 3, let indexed = Self.paletteImage(image) {
      return Self.file(
        width: image.width, height: image.height, colorType: .palette, bytesPerPixel: 1,
        samples: indexed.indices, palette: indexed.palette, alphas: indexed.alphas)
    }
    return Self.file(
      width: image.width, height: image.height, colorType: PNGColorType(channels: image.channels),
      bytesPerPixel: image.channels, samples: image.pixels, palette: nil, alphas: nil)
  }

  /// Assembles signature, IHDR, PLTE/tRNS, IDAT and IEND.
  static func file(
    width: Int, height: Int, colorType: PNGColorType, bytesPerPixel: Int, samples: [UInt8],
    palette: [UInt8]?, alphas: [UInt8]?, forcing forced: UInt8? = nil
  ) -> [UInt8] {
    var out = PNG.signature
    var header: [UInt8] = []
    appendBigEndian(UInt32(width), to: &header)
    appendBigEndian(UInt32(height), to: &header)
    header += [8, colorType.rawValue, 0, 0, 0]  // depth 8, deflate, adaptive filters, no interlace
    appendChunk("IHDR", header, to: &out)
    if let palette { appendChunk("PLTE", palette, to: &out) }
    if let alphas { appendChunk("tRNS", alphas, to: &out) }
    let filtered = filterRows(samples, width: width, height: height, bytesPerPixel: bytesPerPixel, forcing: forced)
    appendChunk("IDAT", Zlib.compress(filtered, strategy: .filtered), to: &out)
    appendChunk("IEND", [], to: &out)
    return out
  }

  /// Each row prefixed with its filter type and filtered by it (by `forced` for every row when
  /// given, which the tests use to exercise each filter).
  static func filterRows(
    _ samples: [UInt8], width: Int, height: Int, bytesPerPixel bpp: Int, forcing forced: UInt8? = nil
  ) -> [UInt8] {
    let rowBytes = width * bpp
    var out = [UInt8](repeating: 0, count: height * (rowBytes + 1))
    var candidate = [UInt8](repeating: 0, count: rowBytes)
    samples.withUnsafeBufferPointer { all in
      for y in 0..<height {
        let start = y * rowBytes, aboveStart = (y - 1) * rowBytes
        var bestCost = Int.max
        for filter: UInt8 in 0...4 {
          if let forced, filter != forced { continue }
          if forced == nil && y == 0 && (filter == 2 || filter == 4) { continue }  // = None / Sub there
          var cost = 0
          for i in 0..<rowBytes {
            let a = i >= bpp ? all[start + i - bpp] : 0
            let b = y > 0 ? all[aboveStart + i] : 0
            let c = i >= bpp && y > 0 ? all[aboveStart + i - bpp] : 0
            let value = all[start + i] &- predictor(filter, a, b, c)
            candidate[i] = value
            cost += value < 128 ? Int(value) : 256 - Int(value)
          }
          if cost < bestCost {
            bestCost = cost
            let target = y * (rowBytes + 1)
            out[target] = filter
            for i in 0..<rowBytes { out[target + 1 + i] = candidate[i] }
          }
        }
      }
    }
    return out
  }

  /// The value filter `type` predicts from left `a`, above `b` and upper-left `c`.
  @inline(__always)
  static func predictor(_ type: UInt8, _ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
    switch type {
    case 1: return a
    case 2: return b
    case 3: return UInt8((Int(a) + Int(b)) / 2)
    case 4: return PNG.paeth(a, b, c)
    default: return 0
    }
  }

  /// Palette indices, the `PLTE` bytes and the `tRNS` alphas (nil when opaque), or nil when
  /// the image has more than 256 colours.
  static func paletteImage(_ image: Image) -> (indices: [UInt8], palette: [UInt8], alphas: [UInt8]?)? {
    var indexOf: [UInt32: UInt8] = [:]
    var colours: [UInt32] = []
    var indices = [UInt8](repeating: 0, count: image.width * image.height)
    let c = image.channels
    for p in 0..<(image.width * image.height) {
      let s = p * c
      let key = UInt32(image.pixels[s]) << 24 | UInt32(image.pixels[s + 1]) << 16 | UInt32(image.pixels[s + 2]) << 8
        | UInt32(c == 4 ? image.pixels[s + 3] : 255)
      if let index = indexOf[key] {
        indices[p] = index
      } else {
        guard colours.count < 256 else { return nil }
        indexOf[key] = UInt8(colours.count)
        indices[p] = UInt8(colours.count)
        colours.append(key)
      }
    }
    let palette = colours.flatMap { [UInt8($0 >> 24), UInt8($0 >> 16 & 0xFF), UInt8($0 >> 8 & 0xFF)] }
    let alphas = colours.map { UInt8($0 & 0xFF) }
    return (indices, palette, alphas.allSatisfy { $0 == 255 } ? nil : alphas)
  }

  static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
    appendBigEndian(UInt32(data.count), to: &out)
    let typeBytes = Array(type.utf8)
    let crc = Zlib.crc32(data, continuing: Zlib.crc32(typeBytes))
    out += typeBytes
    out += data
    appendBigEndian(crc, to: &out)
  }

  static func appendBigEndian(_ value: UInt32, to out: inout [UInt8]) {
    out += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
  }
}

extension Image {
  /// The image as a PNG file (palette when it has at most 256 colours, else its own colour
  /// type); decoding it gives back exactly this image.
  public func pngData() -> [UInt8] { PNGEncoder().encode(self) }

  /// The image with one channel when it is RGB and every pixel is grey (`R == G == B`), else
  /// itself: a third of the data for pictures composed in colour that turned out grey.
  public func reducedToGreyIfPossible() -> Image {
    guard channels == 3 else { return self }
    let isGrey = pixels.withUnsafeBufferPointer { p in
      stride(from: 0, to: p.count, by: 3).allSatisfy { p[$0] == p[$0 + 1] && p[$0] == p[$0 + 2] }
    }
    return isGrey ? converted(toChannels: 1) : self
  }
}
