import CNNData
import CNNTensor
import CNNTraining

extension FilterGrid {
  /// The grid with what a reader needs around it: a title (the network and where its weights
  /// come from), the layer's name and shape, row labels for a deeper layer, and a scale bar
  /// that says how grey levels map to weights, with the layer's weight statistics.
  ///
  /// - Parameters:
  ///   - title: What network this is, e.g. `simple-convnet from run.safetensors, 20 epochs`.
  ///   - layer: The convolution's structural name, e.g. `0` or `layer1.0.conv1`.
  public func picture(title: String, layer: String) -> Image {
    let k = weights.shape[0], c = weights.shape[1], kh = weights.shape[2], kw = weights.shape[3]
    let grid = image()
    let margin = 14, textScale = 2, line = BitmapFont.lineHeight * textScale
    let deep = !(c == 1 || c == 3)
    let shownFilters = min(k, maxFilters)
    let shape = "\(c)×\(kh)×\(kw)"
    var lines = [
      (title, 2, RGB(20, 20, 20)),
      ("convolution \(layer): \(k) filters of \(shape)" + (shownFilters < k ? ", the first \(shownFilters) drawn" : ""), 2,
        RGB(60, 60, 60)),
    ]
    if deep {
      let channels = min(c, maxChannels)
      lines.append(
        (channels < c
          ? "one row per filter: its \(channels) strongest of \(c) input channels, strongest first"
          : "one row per filter, one tile per input channel", 1, RGB(90, 90, 90)))
    }
    let labelWidth = deep ? Canvas.textWidth("#\(shownFilters)", scale: 1) + 6 : 0
    let statistics = Self.statistics(of: weights)
    let captions = [
      isColour
        ? "each filter scaled on its own; per colour channel: dark = its most negative weight, bright = its most positive"
        : "each filter scaled on its own: black = its most negative weight, white = its most positive",
      "layer weights: min \(Self.number(statistics.min)), max \(Self.number(statistics.max)), "
        + "mean \(Self.number(statistics.mean)), std \(Self.number(statistics.std))",
    ]
    let barWidth = 160, barHeight = 12
    let headerHeight = lines.reduce(0) { $0 + BitmapFont.lineHeight * $1.1 + 4 } + 6
    let footerHeight = 10 + barHeight + 6 + line / 2 + 4 + 2 * (BitmapFont.lineHeight + 3)
    let textWidths = lines.map { Canvas.textWidth($0.0, scale: $0.1) } + captions.map { Canvas.textWidth($0, scale: 1) }
    let width = max(labelWidth + grid.width, barWidth + 80, textWidths.max() ?? 0) + 2 * margin
    let height = margin + headerHeight + grid.height + footerHeight + margin
    var canvas = Canvas(width: width, height: height)
    var y = margin
    for (text, scale, colour) in lines {
      canvas.text(text, x: margin, y: y, color: colour, scale: scale)
      y += BitmapFont.lineHeight * scale + 4
    }
    y += 6
    canvas.draw(grid, x: margin + labelWidth, y: y)
    if deep {
      let tileHeight = kh * scale
      for filter in 0..<shownFilters {
        let rowY = y + separator + filter * (tileHeight + separator) + (tileHeight - BitmapFont.glyphHeight) / 2
        canvas.text("#\(filter + 1)", x: margin, y: rowY, color: RGB(90, 90, 90))
      }
    }
    y += grid.height + 10
    // The scale bar: black to white (or a grey ramp per colour channel), labelled at both ends.
    for x in 0..<barWidth {
      let level = UInt8(x * 255 / (barWidth - 1))
      canvas.fill(x: margin + x, y: y, width: 1, height: barHeight, color: RGB(level, level, level))
    }
    canvas.fill(x: margin - 1, y: y - 1, width: barWidth + 2, height: 1, color: RGB(120, 120, 120))
    canvas.fill(x: margin - 1, y: y + barHeight, width: barWidth + 2, height: 1, color: RGB(120, 120, 120))
    canvas.fill(x: margin - 1, y: y - 1, width: 1, height: barHeight + 2, color: RGB(120, 120, 120))
    canvas.fill(x: margin + barWidth, y: y - 1, width: 1, height: barHeight + 2, color: RGB(120, 120, 120))
    y += barHeight + 4
    canvas.text("min", x: margin, y: y, color: RGB(60, 60, 60))
    canvas.text("max", x: margin + barWidth - Canvas.textWidth("max"), y: y, color: RGB(60, 60, 60))
    y += BitmapFont.lineHeight + 4
    for caption in captions {
      canvas.text(caption, x: margin, y: y, color: RGB(60, 60, 60))
      y += BitmapFont.lineHeight + 3
    }
    return canvas.image
  }

  /// The smallest, largest and mean weight and the standard deviation, over every weight.
  static func statistics(of weights: Tensor) -> (min: Float, max: Float, mean: Float, std: Float) {
    let values = weights.scalars
    guard !values.isEmpty else { return (0, 0, 0, 0) }
    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
    return (values.min() ?? 0, values.max() ?? 0, Float(mean), Float(variance.squareRoot()))
  }

  /// A weight with four significant figures: `0.01013`, `-0.3125`, `1.250`.
  static func number(_ value: Float) -> String {
    guard value != 0 else { return "0" }
    var digits = 4
    var magnitude = abs(value)
    while magnitude < 1 && digits < 9 {
      magnitude *= 10
      digits += 1
    }
    return value.formatted(max(0, digits - 1 - (abs(value) >= 10 ? 1 : 0)))
  }
}
