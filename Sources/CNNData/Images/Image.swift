import CNNTensor

/// An 8-bit raster image: `height` rows of `width` pixels, each `channels` bytes.
///
/// Layout: interleaved and row-major, top row first, so pixel `(x, y)` channel `c` is
/// `pixels[(y · width + x) · channels + c]`. Channels mean grey (1), grey + alpha (2),
/// RGB (3) or RGBA (4), as in PNG. Tensors are planar (`[1, C, H, W]`, values in `[0, 1]`);
/// ``init(tensor:)`` and ``tensor()`` convert between the two.
public struct Image: Equatable, Sendable {
  /// Pixels per row.
  public let width: Int
  /// Rows.
  public let height: Int
  /// Bytes per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
  public let channels: Int
  /// `height · width · channels` bytes, interleaved, top row first.
  public var pixels: [UInt8]

  /// Creates an image from interleaved pixels; `pixels.count` must be `width · height · channels`.
  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    precondition(width > 0 && height > 0, "Image needs a positive size, got \(width)×\(height)")
    precondition((1...4).contains(channels), "Image channels must be 1 to 4, got \(channels)")
    precondition(
      pixels.count == width * height * channels,
      "Image \(width)×\(height)×\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// An image filled with one colour (`value` holds one byte per channel).
  public init(width: Int, height: Int, filledWith value: [UInt8]) {
    precondition(!value.isEmpty, "Image fill colour needs 1 to 4 channels")
    var pixels: [UInt8] = []
    pixels.reserveCapacity(width * height * value.count)
    for _ in 0..<(width * height) { pixels.append(contentsOf: value) }
    self.init(width: width, height: height, channels: value.count, pixels: pixels)
  }

  /// Whether the last channel is alpha (2 or 4 channels).
  public var hasAlpha: Bool { channels == 2 || channels == 4 }

  /// The bytes of pixel `(x, y)`.
  public subscript(x: Int, y: Int) -> ArraySlice<UInt8> {
    let start = (y * width + x) * channels
    return pixels[start..<(start + channels)]
  }

  /// Channel `c` of pixel `(x, y)`.
  public subscript(x: Int, y: Int, channel: Int) -> UInt8 {
    get { pixels[(y * width + x) * channels + channel] }
    set { pixels[(y * width + x) * channels + channel] = newValue }
  }
}

// MARK: - Tensors

extension Image {
  /// Converts an image tensor `[1, C, H, W]` or `[C, H, W]` with values in `[0, 1]`
  /// (clamped; NaN becomes 0) to bytes, `round(255 · v)`. C must be 1 to 4.
  public init(tensor: Tensor) {
    let shape = tensor.shape
    precondition(
      (shape.rank == 4 && shape[0] == 1) || shape.rank == 3,
      "Image(tensor:) expects [1, C, H, W] or [C, H, W], got \(shape)")
    let c = shape[shape.rank - 3], h = shape[shape.rank - 2], w = shape[shape.rank - 1]
    precondition((1...4).contains(c), "Image(tensor:) needs 1 to 4 channels, got \(shape)")
    var pixels = [UInt8](repeating: 0, count: c * h * w)
    tensor.withUnsafeBufferPointer { x in
      for channel in 0..<c {
        for p in 0..<(h * w) { pixels[p * c + channel] = Self.byte(x[channel * h * w + p]) }
      }
    }
    self.init(width: w, height: h, channels: c, pixels: pixels)
  }

  /// The image as a tensor `[1, C, H, W]` with values `byte / 255` in `[0, 1]`.
  public func tensor() -> Tensor {
    let plane = width * height
    return Tensor(shape: [1, channels, height, width], unsafeUninitialized: { x in
      for p in 0..<plane {
        for c in 0..<channels { x[c * plane + p] = Float(pixels[p * channels + c]) / 255 }
      }
    })
  }

  /// `round(255 · v)` for `v` clamped to `[0, 1]`; NaN maps to 0.
  @inline(__always)
  package static func byte(_ value: Float) -> UInt8 {
    guard value > 0 else { return 0 }
    guard value < 1 else { return 255 }
    return UInt8((value * 255).rounded())
  }
}

// MARK: - Conversions

extension Image {
  /// The image with each pixel repeated `factor × factor` times (nearest neighbour).
  public func scaled(by factor: Int) -> Image {
    precondition(factor >= 1, "Scale factor must be at least 1, got \(factor)")
    if factor == 1 { return self }
    let newWidth = width * factor
    var out = [UInt8](repeating: 0, count: newWidth * height * factor * channels)
    for y in 0..<height {
      let sourceRow = y * width * channels
      let firstRow = y * factor * newWidth * channels
      for x in 0..<width {
        for r in 0..<factor {
          for c in 0..<channels {
            out[firstRow + (x * factor + r) * channels + c] = pixels[sourceRow + x * channels + c]
          }
        }
      }
      let rowBytes = newWidth * channels
      for r in 1..<factor {
        out.withUnsafeMutableBufferPointer { buffer in
          for i in 0..<rowBytes { buffer[firstRow + r * rowBytes + i] = buffer[firstRow + i] }
        }
      }
    }
    return Image(width: newWidth, height: height * factor, channels: channels, pixels: out)
  }

  /// The image with `count` channels: grey is copied into R, G and B; colour becomes grey
  /// with the ITU-R BT.601 luma weights `0.299 R + 0.587 G + 0.114 B`; a missing alpha is
  /// opaque, and a dropped one is discarded.
  public func converted(toChannels count: Int) -> Image {
    precondition((1...4).contains(count), "Image channels must be 1 to 4, got \(count)")
    if count == channels { return self }
    var out = [UInt8](repeating: 0, count: width * height * count)
    let colourIn = channels >= 3, colourOut = count >= 3
    for p in 0..<(width * height) {
      let source = p * channels, target = p * count
      let alpha: UInt8 = hasAlpha ? pixels[source + channels - 1] : 255
      if colourIn && !colourOut {
        let r = Int(pixels[source]), g = Int(pixels[source + 1]), b = Int(pixels[source + 2])
        out[target] = UInt8((299 * r + 587 * g + 114 * b + 500) / 1000)
      } else if !colourIn && colourOut {
        for c in 0..<3 { out[target + c] = pixels[source] }
      } else {
        for c in 0..<(colourOut ? 3 : 1) { out[target + c] = pixels[source + c] }
      }
      if count == 2 || count == 4 { out[target + count - 1] = alpha }
    }
    return Image(width: width, height: height, channels: count, pixels: out)
  }
}
