import CNNData
/// An 8-bit RGB colour.
public struct RGB: Hashable, Sendable {
  public var red: UInt8
  public var green: UInt8
  public var blue: UInt8

  public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  public static let white = RGB(255, 255, 255)
  public static let black = RGB(0, 0, 0)
  /// The separator between tiles: a blue that no grey tile pixel can be, visible against
  /// both black and white pixels.
  public static let separator = RGB(60, 140, 230)
}

/// An RGB raster to compose pictures on: filled rectangles, pasted images and bitmap text.
/// Drawing is clipped to the canvas.
public struct Canvas: Sendable {
  public let width: Int
  public let height: Int
  /// `height · width · 3` bytes, RGB, top row first.
  public private(set) var pixels: [UInt8]

  /// A canvas filled with `background`.
  public init(width: Int, height: Int, background: RGB = .white) {
    precondition(width > 0 && height > 0, "Canvas needs a positive size, got \(width)×\(height)")
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
    fill(x: 0, y: 0, width: width, height: height, color: background)
  }

  /// The picture drawn so far.
  public var image: Image { Image(width: width, height: height, channels: 3, pixels: pixels) }

  /// Sets one pixel (ignored outside the canvas).
  public mutating func set(x: Int, y: Int, _ color: RGB) {
    guard x >= 0 && y >= 0 && x < width && y < height else { return }
    let i = (y * width + x) * 3
    pixels[i] = color.red
    pixels[i + 1] = color.green
    pixels[i + 2] = color.blue
  }

  /// Fills a rectangle.
  public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
    for row in max(0, y)..<max(max(0, y), min(height, y + h)) {
      for column in max(0, x)..<max(max(0, x), min(width, x + w)) { set(x: column, y: row, color) }
    }
  }

  /// Copies `image` with its top-left corner at `(x, y)`; grey is drawn as grey, alpha is
  /// blended over what is already there.
  public mutating func draw(_ image: Image, x: Int, y: Int) {
    for row in 0..<image.height {
      for column in 0..<image.width {
        let tx = x + column, ty = y + row
        guard tx >= 0 && ty >= 0 && tx < width && ty < height else { continue }
        let source = (row * image.width + column) * image.channels
        let colour: [UInt8] =
          image.channels >= 3
          ? [image.pixels[source], image.pixels[source + 1], image.pixels[source + 2]]
          : [image.pixels[source], image.pixels[source], image.pixels[source]]
        let alpha = image.hasAlpha ? Int(image.pixels[source + image.channels - 1]) : 255
        let target = (ty * width + tx) * 3
        for c in 0..<3 {
          let under = Int(pixels[target + c])
          pixels[target + c] = UInt8((Int(colour[c]) * alpha + under * (255 - alpha) + 127) / 255)
        }
      }
    }
  }

  /// Draws `image` at `(x, y)` inside a 1-pixel frame of `frame` (the frame lies just
  /// outside the image, so tiles placed `width + 1` apart share their frame lines).
  public mutating func drawFramed(_ image: Image, x: Int, y: Int, frame: RGB = .separator) {
    fill(x: x - 1, y: y - 1, width: image.width + 2, height: image.height + 2, color: frame)
    draw(image, x: x, y: y)
  }

  /// Draws `text` in the 5×7 bitmap font with its top-left corner at `(x, y)`, each font
  /// pixel `scale × scale` screen pixels.
  public mutating func text(_ text: String, x: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    var left = x
    for character in text {
      for (row, bits) in BitmapFont.rows(character).enumerated() {
        for column in 0..<BitmapFont.glyphWidth where bits >> (BitmapFont.glyphWidth - 1 - column) & 1 == 1 {
          fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
        }
      }
      left += BitmapFont.advance * scale
    }
  }

  /// Draws `text` turned a quarter-turn anticlockwise, reading bottom to top, so that it fits
  /// a narrow column: it starts at the bottom, `y` is its lowest pixel row plus one, and its
  /// glyphs' tops face left, at column `x`. It covers `x..<x + 9·scale` across (descenders
  /// included) and `textWidth(text, scale:)` up from `y`.
  public mutating func verticalText(_ text: String, x: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    var along = 0
    for character in text {
      for (row, bits) in BitmapFont.rows(character).enumerated() {
        for column in 0..<BitmapFont.glyphWidth where bits >> (BitmapFont.glyphWidth - 1 - column) & 1 == 1 {
          fill(x: x + row * scale, y: y - along - (column + 1) * scale, width: scale, height: scale, color: color)
        }
      }
      along += BitmapFont.advance * scale
    }
  }

  /// The width of `text` in pixels at `scale`.
  public static func textWidth(_ text: String, scale: Int = 1) -> Int { BitmapFont.width(of: text, scale: scale) }
}
