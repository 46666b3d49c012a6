import CNNData
extension Image {
  /// Images placed left to right on a white background, `gap` pixels apart, each with its
  /// label above it in the bitmap font (RGB).
  public static func sideBySide(_ images: [(label: String, image: Image)], gap: Int = 12, labelScale: Int = 2) -> Image {
    let labelHeight = images.contains { !$0.label.isEmpty } ? BitmapFont.glyphHeight * labelScale + 10 : 0
    let width = images.reduce(gap) { $0 + $1.image.width + gap }
    let height = (images.map(\.image.height).max() ?? 0) + labelHeight + 2 * gap
    var canvas = Canvas(width: width, height: height)
    var x = gap
    for entry in images {
      canvas.text(entry.label, x: x, y: gap, color: RGB(30, 30, 30), scale: labelScale)
      canvas.draw(entry.image, x: x, y: gap + labelHeight)
      x += entry.image.width + gap
    }
    return canvas.image
  }
}
