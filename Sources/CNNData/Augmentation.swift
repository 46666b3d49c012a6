import CNNTensor

/// One random change to a training image, drawn afresh for every image from an injected
/// generator: the seeds' list (crop with padding, horizontal flip, brightness, contrast) and
/// random scale.
///
/// Images are `[C, H, W]` `Float`s in `[0, 1]` (before any ``Normalization``). The colour
/// changes clamp their result to `[0, 1]`, as torchvision's do on 8-bit images; the geometric
/// ones fill uncovered pixels with 0. Each case draws the same number of values from the
/// generator whatever it decides, so a run's randomness is fixed by its seed.
public enum Augmentation: Sendable, Equatable, CustomStringConvertible {
  /// Mirrors the image left–right with probability ½ (`RandomHorizontalFlip`).
  case horizontalFlip
  /// Pads each side with `padding` zero pixels, then crops `H × W` at a uniformly random
  /// offset (`RandomCrop(size, padding:)`): a shift by `−padding … padding` pixels each way.
  case crop(padding: Int)
  /// Multiplies every pixel by a factor drawn uniformly from `[max(0, 1 − b), 1 + b]`
  /// (`ColorJitter(brightness: b)`).
  case brightness(Float)
  /// Moves every pixel toward or away from the image's mean grey level by a factor `f` drawn
  /// uniformly from `[max(0, 1 − c), 1 + c]`: `x ← f·x + (1 − f)·mean`, the mean being the
  /// BT.601 luma mean for RGB (`ColorJitter(contrast: c)`).
  case contrast(Float)
  /// Zooms about the centre by a factor drawn uniformly from `[1 − s, 1 + s]`, bilinearly
  /// (`RandomAffine(0, scale: (1 − s, 1 + s))`).
  case scale(Float)

  /// The spelling `AugmentationPipeline(parsing:)` reads: `flip`, `crop=4`, `brightness=0.2`.
  public var description: String {
    switch self {
    case .horizontalFlip: return "flip"
    case .crop(let padding): return "crop=\(padding)"
    case .brightness(let amount): return "brightness=\(amount)"
    case .contrast(let amount): return "contrast=\(amount)"
    case .scale(let amount): return "scale=\(amount)"
    }
  }

  /// Applies this augmentation to one image in place; `scratch` holds at least `image.count`.
  func apply(
    to image: UnsafeMutableBufferPointer<Float>, channels: Int, height: Int, width: Int,
    scratch: UnsafeMutableBufferPointer<Float>, using generator: inout some RandomNumberGenerator
  ) {
    switch self {
    case .horizontalFlip:
      if generator.next() >> 63 == 1 { Self.flipHorizontally(image, channels: channels, height: height, width: width) }
    case .crop(let padding):
      let span = UInt64(2 * padding + 1)
      let dx = Int(uniformBelow(span, using: &generator)) - padding
      let dy = Int(uniformBelow(span, using: &generator)) - padding
      Self.shift(image, dx: dx, dy: dy, channels: channels, height: height, width: width, scratch: scratch)
    case .brightness(let amount):
      Self.adjustBrightness(image, factor: Self.factor(amount, using: &generator))
    case .contrast(let amount):
      Self.adjustContrast(image, factor: Self.factor(amount, using: &generator), channels: channels)
    case .scale(let amount):
      let factor = 1 - amount + 2 * amount * generator.nextUniform()
      Self.rescale(image, factor: factor, channels: channels, height: height, width: width, scratch: scratch)
    }
  }

  /// A factor uniform in `[max(0, 1 − amount), 1 + amount]`.
  static func factor(_ amount: Float, using generator: inout some RandomNumberGenerator) -> Float {
    let low = max(0, 1 - amount), high = 1 + amount
    return low + (high - low) * generator.nextUniform()
  }

  // MARK: - The deterministic operations

  /// Reverses every row.
  static func flipHorizontally(_ image: UnsafeMutableBufferPointer<Float>, channels: Int, height: Int, width: Int) {
    for row in 0..<(channels * height) {
      var left = row * width, right = left + width - 1
      while left < right {
        image.swapAt(left, right)
        left += 1
        right -= 1
      }
    }
  }

  /// `out[c, y, x] = in[c, y + dy, x + dx]`, 0 where that is outside the image: the window of
  /// a padded crop at offset `(dx + P, dy + P)`.
  static func shift(
    _ image: UnsafeMutableBufferPointer<Float>, dx: Int, dy: Int, channels: Int, height: Int, width: Int,
    scratch: UnsafeMutableBufferPointer<Float>
  ) {
    guard dx != 0 || dy != 0 else { return }
    let count = channels * height * width
    for i in 0..<count { scratch[i] = image[i] }
    for c in 0..<channels {
      for y in 0..<height {
        let sourceY = y + dy
        for x in 0..<width {
          let sourceX = x + dx
          let inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width
          image[(c * height + y) * width + x] = inside ? scratch[(c * height + sourceY) * width + sourceX] : 0
        }
      }
    }
  }

  /// `x ← clamp(factor · x, 0, 1)`.
  static func adjustBrightness(_ image: UnsafeMutableBufferPointer<Float>, factor: Float) {
    for i in image.indices { image[i] = clamp(factor * image[i]) }
  }

  /// `x ← clamp(factor · x + (1 − factor) · mean, 0, 1)`, `mean` the grey (luma for RGB) mean.
  static func adjustContrast(_ image: UnsafeMutableBufferPointer<Float>, factor: Float, channels: Int) {
    let plane = image.count / channels
    var total = 0.0
    if channels == 3 {
      let weights = [0.299, 0.587, 0.114]
      for c in 0..<3 {
        var sum = 0.0
        for p in (c * plane)..<((c + 1) * plane) { sum += Double(image[p]) }
        total += weights[c] * sum
      }
      total /= Double(plane)
    } else {
      for p in image.indices { total += Double(image[p]) }
      total /= Double(image.count)
    }
    let offset = (1 - factor) * Float(total)
    for i in image.indices { image[i] = clamp(factor * image[i] + offset) }
  }

  /// Zooms by `factor` about the image centre with bilinear sampling: output pixel `(x, y)`
  /// reads input `((x + ½ − W/2)/factor + W/2 − ½, …)`; samples outside the image are 0.
  static func rescale(
    _ image: UnsafeMutableBufferPointer<Float>, factor: Float, channels: Int, height: Int, width: Int,
    scratch: UnsafeMutableBufferPointer<Float>
  ) {
    guard factor != 1, factor > 0 else { return }
    let count = channels * height * width
    for i in 0..<count { scratch[i] = image[i] }
    let inverse = 1 / factor
    func pixel(_ c: Int, _ y: Int, _ x: Int) -> Float {
      guard y >= 0, y < height, x >= 0, x < width else { return 0 }
      return scratch[(c * height + y) * width + x]
    }
    for y in 0..<height {
      let sy = (Float(y) + 0.5 - Float(height) / 2) * inverse + Float(height) / 2 - 0.5
      let y0 = Int(sy.rounded(.down)), fy = sy - Float(y0)
      for x in 0..<width {
        let sx = (Float(x) + 0.5 - Float(width) / 2) * inverse + Float(width) / 2 - 0.5
        let x0 = Int(sx.rounded(.down)), fx = sx - Float(x0)
        for c in 0..<channels {
          let top = pixel(c, y0, x0) * (1 - fx) + pixel(c, y0, x0 + 1) * fx
          let bottom = pixel(c, y0 + 1, x0) * (1 - fx) + pixel(c, y0 + 1, x0 + 1) * fx
          image[(c * height + y) * width + x] = top * (1 - fy) + bottom * fy
        }
      }
    }
  }

  @inline(__always)
  private static func clamp(_ value: Float) -> Float { min(1, max(0, value)) }
}

/// Augmentations applied in order to every training image (`flip,crop=4`).
///
///     let augmentation = try AugmentationPipeline(parsing: "flip,crop=4,brightness=0.2,contrast=0.2")
///
/// The steps run in the order written. Evaluation never augments.
public struct AugmentationPipeline: Sendable, Equatable, CustomStringConvertible {
  /// The steps, in the order they run.
  public var steps: [Augmentation]

  /// No augmentation.
  public static let none = AugmentationPipeline([])

  /// A pipeline of `steps`.
  public init(_ steps: [Augmentation]) { self.steps = steps }

  /// Whether there is nothing to do.
  public var isEmpty: Bool { steps.isEmpty }

  /// The comma-separated spelling (`flip,crop=4`), which ``init(parsing:)`` reads back.
  public var description: String { steps.map(\.description).joined(separator: ",") }

  /// Parses `flip,crop=4,brightness=0.2,contrast=0.2,scale=0.1` (or `none`, or empty).
  ///
  /// - Throws: `AugmentationError` naming the part that is not understood.
  public init(parsing text: String) throws(AugmentationError) {
    var steps: [Augmentation] = []
    let trimmed = text.strippingSpaces()
    guard !trimmed.isEmpty, trimmed != "none" else {
      self.init([])
      return
    }
    for part in trimmed.split(separator: ",") {
      let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
        String($0).strippingSpaces()
      }
      let name = pieces[0], value = pieces.count > 1 ? pieces[1] : nil
      func amount(_ range: ClosedRange<Float>) throws(AugmentationError) -> Float {
        guard let value, let number = Float(value), range.contains(number) else {
          throw AugmentationError(part: String(part), reason: "\(name) needs a number in \(range), as in \(name)=0.2")
        }
        return number
      }
      switch name {
      case "flip", "hflip":
        guard value == nil else { throw AugmentationError(part: String(part), reason: "flip takes no value") }
        steps.append(.horizontalFlip)
      case "crop":
        guard let value, let padding = Int(value), (1...64).contains(padding) else {
          throw AugmentationError(part: String(part), reason: "crop needs a padding in pixels, 1 … 64, as in crop=4")
        }
        steps.append(.crop(padding: padding))
      case "brightness": steps.append(.brightness(try amount(0...1)))
      case "contrast": steps.append(.contrast(try amount(0...1)))
      case "scale": steps.append(.scale(try amount(0...0.9)))
      default:
        throw AugmentationError(
          part: String(part), reason: "unknown augmentation; use flip, crop=P, brightness=B, contrast=C, scale=S")
      }
    }
    self.init(steps)
  }

  /// Applies every step to one image `[C, H, W]` in place.
  func apply(
    to image: UnsafeMutableBufferPointer<Float>, channels: Int, height: Int, width: Int,
    scratch: UnsafeMutableBufferPointer<Float>, using generator: inout some RandomNumberGenerator
  ) {
    for step in steps {
      step.apply(to: image, channels: channels, height: height, width: width, scratch: scratch, using: &generator)
    }
  }
}

/// An augmentation list that cannot be parsed.
public struct AugmentationError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The part of the list that is wrong (`crop=x`).
  public var part: String
  /// Why.
  public var reason: String

  public var description: String {
    "augmentation '\(part)': \(reason).\n---> HINT: write a comma-separated list such as "
      + "flip,crop=4,brightness=0.2,contrast=0.2,scale=0.1."
  }
}

extension String {
  /// The string without leading and trailing spaces.
  fileprivate func strippingSpaces() -> String {
    var slice = self[...]
    while slice.first == " " { slice.removeFirst() }
    while slice.last == " " { slice.removeLast() }
    return String(slice)
  }
}
