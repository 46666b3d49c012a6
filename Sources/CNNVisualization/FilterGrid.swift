import CNNData
import CNNKernels
import CNNLayers
import CNNTensor

/// A convolution layer's filters as a picture: one tile per filter, scaled up so a person can
/// see the weights.
///
/// Shape: weights `[K, C, KH, KW]`. Each filter is min–max normalised on its own (its
/// smallest weight black, its largest white; a constant filter is mid-grey) and each weight
/// becomes a `scale × scale` block (nearest neighbour). Tiles are separated, and framed, by
/// ``separator``-pixel lines of ``RGB/separator`` (white for colour tiles).
///
/// - `C == 1`: grey tiles in a near-square grid of ``columns`` per row (the seeds' picture of
///   first-layer filters).
/// - `C == 3`: colour tiles, channel 0 red, 1 green, 2 blue, in the same grid.
/// - Any other `C` (a deeper layer): one row per filter, one grey tile per input channel,
///   all normalised together per filter. With more than ``maxChannels`` input channels, the
///   row shows the filter's ``maxChannels`` strongest channels (largest L2 norm), strongest
///   first: a summary of what the filter looks at rather than every one of its weights.
///
/// At most ``maxFilters`` filters are drawn. ``picture(title:layer:)`` adds a title, the
/// layer's name, row labels and a scale bar.
public struct FilterGrid: Sendable {
  /// `[K, C, KH, KW]`.
  public var weights: Tensor
  /// Screen pixels per weight along each side.
  public var scale: Int
  /// Tiles per row for 1- and 3-channel filters (default: about √K).
  public var columns: Int?
  /// The most filters drawn (the first ones).
  public var maxFilters = 256
  /// The most input channels drawn per filter when `C` is neither 1 nor 3 (the strongest).
  public var maxChannels = 16
  /// Pixels between tiles (and around the grid), in ``RGB/separator``.
  public var separator = 1

  /// - Parameters:
  ///   - weights: A convolution weight `[K, C, KH, KW]`.
  ///   - scale: Pixels per weight; by default enough to make each tile about 40 pixels wide.
  ///   - columns: Tiles per row; by default about √K.
  public init(weights: Tensor, scale: Int? = nil, columns: Int? = nil) {
    precondition(weights.shape.rank == 4, "FilterGrid expects convolution weights [K, C, KH, KW], got \(weights.shape)")
    self.weights = weights
    let side = max(weights.shape[2], weights.shape[3])
    self.scale = scale ?? max(1, (40 + side - 1) / side)
    self.columns = columns
  }

  /// The largest `scale` accepted from a user (`cnn visualize filters --scale`).
  public static let maximumScale = 100

  /// The bytes of the picture ``image()`` draws (RGB), computed with overflow checks; `nil`
  /// when they overflow. Check it against `MemoryBudget` before drawing a large scale.
  public var pictureBytes: Int? {
    let k = min(weights.shape[0], maxFilters), c = weights.shape[1]
    let columns = (c == 1 || c == 3) ? max(1, min(k, columns ?? Int(Double(k).squareRoot().rounded(.up)))) : min(c, maxChannels)
    let rows = (c == 1 || c == 3) ? (k + columns - 1) / columns : k
    guard let tileWidth = MemoryBudget.bytes([weights.shape[3], scale]),
      let tileHeight = MemoryBudget.bytes([weights.shape[2], scale]),
      let width = MemoryBudget.sum([MemoryBudget.bytes([columns, tileWidth + separator]), separator, 400]),
      let height = MemoryBudget.sum([MemoryBudget.bytes([rows, tileHeight + separator]), separator, 200])
    else { return nil }
    return MemoryBudget.bytes([width, height, 3])
  }

  /// Whether tiles are drawn in colour (`C == 3`).
  public var isColour: Bool { weights.shape[1] == 3 }

  /// The picture (RGB).
  public func image() -> Image {
    let k = min(weights.shape[0], maxFilters), c = weights.shape[1]
    let kh = weights.shape[2], kw = weights.shape[3]
    let tileWidth = kw * scale, tileHeight = kh * scale
    let gridColumns: Int, gridRows: Int
    let channelsShown = (c == 1 || c == 3) ? c : min(c, maxChannels)
    if c == 1 || c == 3 {
      gridColumns = max(1, min(k, columns ?? Int(Double(k).squareRoot().rounded(.up))))
      gridRows = (k + gridColumns - 1) / gridColumns
    } else {
      gridColumns = channelsShown
      gridRows = k
    }
    let gap = separator
    var canvas = Canvas(
      width: gridColumns * (tileWidth + gap) + gap, height: gridRows * (tileHeight + gap) + gap, background: .white)
    // Colour tiles of random weights hold every hue, the separator's blue too: white gaps read better there.
    let frame: RGB = isColour ? .white : .separator
    func place(_ image: Image, x: Int, y: Int) {
      canvas.fill(x: x - gap, y: y - gap, width: image.width + 2 * gap, height: image.height + 2 * gap, color: frame)
      canvas.draw(image, x: x, y: y)
    }
    let filterSize = c * kh * kw
    weights.withUnsafeBufferPointer { w in
      for filter in 0..<k {
        let values = UnsafeBufferPointer(rebasing: w[(filter * filterSize)..<((filter + 1) * filterSize)])
        let channels = (c == 1 || c == 3) ? Array(0..<c) : Self.strongestChannels(of: values, channels: c, count: channelsShown)
        let shown = channels.flatMap { channel in values[(channel * kh * kw)..<((channel + 1) * kh * kw)] }
        let low = shown.min() ?? 0, high = shown.max() ?? 0
        func byte(_ v: Float) -> UInt8 {
          high > low ? Image.byte((v - low) / (high - low)) : 128
        }
        if c == 1 || c == 3 {
          var tile = [UInt8](repeating: 0, count: kh * kw * c)
          for y in 0..<kh {
            for x in 0..<kw {
              for channel in 0..<c { tile[(y * kw + x) * c + channel] = byte(values[(channel * kh + y) * kw + x]) }
            }
          }
          let image = Image(width: kw, height: kh, channels: c, pixels: tile).scaled(by: scale)
          let column = filter % gridColumns, row = filter / gridColumns
          place(image, x: gap + column * (tileWidth + gap), y: gap + row * (tileHeight + gap))
        } else {
          for (position, channel) in channels.enumerated() {
            let pixels = (0..<(kh * kw)).map { byte(values[channel * kh * kw + $0]) }
            let image = Image(width: kw, height: kh, channels: 1, pixels: pixels).scaled(by: scale)
            place(image, x: gap + position * (tileWidth + gap), y: gap + filter * (tileHeight + gap))
          }
        }
      }
    }
    return canvas.image
  }
}

extension FilterGrid {
  /// The `count` input channels of one filter (`values`, `[C, KH, KW]`) with the largest L2
  /// norm, strongest first (ties: the lower channel first); all `C` in order when `count ≥ C`.
  static func strongestChannels(of values: UnsafeBufferPointer<Float>, channels c: Int, count: Int) -> [Int] {
    guard count < c else { return Array(0..<c) }
    let plane = values.count / c
    let norms = (0..<c).map { channel in
      values[(channel * plane)..<((channel + 1) * plane)].reduce(Float(0)) { $0 + $1 * $1 }
    }
    return (0..<c).sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }.prefix(count).map { $0 }
  }

  /// The convolution weights of `model` (every rank-4 parameter named `…weight`), with
  /// their structural names (`"0.weight"`, `"layer1.0.conv1.weight"`), in order.
  public static func convolutionWeights(in model: any Layer) -> [(name: String, weight: Tensor)] {
    model.namedParameters.compactMap { entry in
      entry.name.hasSuffix("weight") && entry.parameter.value.shape.rank == 4 ? (entry.name, entry.parameter.value) : nil
    }
  }
}
