extension Image {
  /// The image resampled to `width × height` with a triangle (bilinear) filter whose support
  /// widens with the reduction, so shrinking averages neighbouring pixels instead of
  /// skipping them (as PIL's and torchvision's antialiased bilinear resize do).
  public func resized(width newWidth: Int, height newHeight: Int) -> Image {
    precondition(newWidth > 0 && newHeight > 0, "Image.resized needs a positive size, got \(newWidth)×\(newHeight)")
    if newWidth == width && newHeight == height { return self }
    let columns = Self.resampleTaps(from: width, to: newWidth)
    let rows = Self.resampleTaps(from: height, to: newHeight)
    var horizontal = [Double](repeating: 0, count: height * newWidth * channels)
    for y in 0..<height {
      for (x, taps) in columns.enumerated() {
        for c in 0..<channels {
          var sum = 0.0
          for tap in taps { sum += tap.weight * Double(pixels[(y * width + tap.index) * channels + c]) }
          horizontal[(y * newWidth + x) * channels + c] = sum
        }
      }
    }
    var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
    for (y, taps) in rows.enumerated() {
      for x in 0..<newWidth {
        for c in 0..<channels {
          var sum = 0.0
          for tap in taps { sum += tap.weight * horizontal[(tap.index * newWidth + x) * channels + c] }
          out[(y * newWidth + x) * channels + c] = UInt8(max(0, min(255, sum.rounded())))
        }
      }
    }
    return Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
  }

  /// For each output position, the input positions it reads and their normalised weights.
  static func resampleTaps(from input: Int, to output: Int) -> [[(index: Int, weight: Double)]] {
    let scale = Double(input) / Double(output)
    let support = max(scale, 1)
    return (0..<output).map { i in
      let centre = (Double(i) + 0.5) * scale
      let low = max(0, Int((centre - support).rounded(.down)))
      let high = min(input, Int((centre + support).rounded(.up)))
      var taps = (low..<high).map { j in (index: j, weight: max(0, 1 - abs(Double(j) + 0.5 - centre) / support)) }
      let total = taps.reduce(0) { $0 + $1.weight }
      if total > 0 { taps = taps.map { (index: $0.index, weight: $0.weight / total) } }
      return taps.filter { $0.weight > 0 }
    }
  }
}
