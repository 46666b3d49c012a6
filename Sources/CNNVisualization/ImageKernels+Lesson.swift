import CNNData

extension ImageKernel {
  /// The kernels of the seeds' image-kernel lesson: blur, sharpen, edge, emboss, and the two
  /// Sobel gradients.
  public static let lessonKernels: [ImageKernel] = [.blur, .sharpen, .edge, .emboss, .sobelX, .sobelY]

  /// The seeds' image-kernel lesson as one picture: the photo, then for each kernel its
  /// name, its weights as a small table (positive weights red, negative blue, zero white) and
  /// what it does to the photo, `columns` panels to a row.
  ///
  /// The photo is first reduced to at most `side` pixels on its longer side, so that each
  /// 3×3 kernel acts on the picture at the size it is shown (a blur of a 512-pixel photo
  /// shown at 240 pixels would be invisible). The first panel is the photo itself, under the
  /// identity kernel that leaves it unchanged.
  public static func lessonPicture(
    photo: Image, kernels: [ImageKernel] = lessonKernels, side: Int = 240, columns: Int = 4
  ) -> Image {
    let longer = max(photo.width, photo.height)
    let shown =
      longer > side
      ? photo.resized(width: max(1, photo.width * side / longer), height: max(1, photo.height * side / longer))
      : photo
    let identity = ImageKernel.custom([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    let panels: [(name: String, kernel: ImageKernel, result: Image)] =
      [("original (identity)", identity, shown)]
      + kernels.map { kernel in ("\(kernel)", kernel, kernel.apply(to: shown)) }
    let margin = 16, gap = 18, nameScale = 2
    let nameHeight = BitmapFont.glyphHeight * nameScale + 8
    let tables = panels.map { weightTable($0.kernel) }
    let tableHeight = tables.map(\.height).max() ?? 0
    let panelWidth = max(shown.width, panels.map { Canvas.textWidth($0.name, scale: nameScale) }.max() ?? 0)
    let captionHeight = BitmapFont.lineHeight + 6
    let panelHeight = nameHeight + tableHeight + captionHeight + 8 + shown.height
    let perRow = max(1, min(columns, panels.count))
    let rows = (panels.count + perRow - 1) / perRow
    let title = "Image kernels: each output pixel is the sum of the 3x3 window times the weights"
    let titleHeight = BitmapFont.lineHeight * 2 + 10
    let width = max(2 * margin + perRow * panelWidth + (perRow - 1) * gap, 2 * margin + Canvas.textWidth(title, scale: 2))
    let height = 2 * margin + titleHeight + rows * panelHeight + (rows - 1) * gap
    var canvas = Canvas(width: width, height: height)
    canvas.text(title, x: margin, y: margin, color: RGB(10, 10, 10), scale: 2)
    for (index, panel) in panels.enumerated() {
      let x = margin + (index % perRow) * (panelWidth + gap)
      let y = margin + titleHeight + (index / perRow) * (panelHeight + gap)
      canvas.text(panel.name, x: x, y: y, color: RGB(30, 30, 30), scale: nameScale)
      canvas.draw(tables[index], x: x, y: y + nameHeight)
      let caption: String
      switch panel.kernel.defaultResponse {
      case .clamp: caption = "weights sum to 1; shown clamped to 0..1"
      case .absolute: caption = "weights sum to 0; shown as |result|"
      case .normalized: caption = "shown stretched black to white"
      }
      canvas.text(caption, x: x, y: y + nameHeight + tableHeight + 6, color: RGB(80, 80, 80))
      canvas.draw(panel.result, x: x, y: y + nameHeight + tableHeight + captionHeight + 8)
    }
    return canvas.image
  }

  /// The kernel's weights as a table of cells, each with its value (`1/9`, `-2`), shaded
  /// red for positive and blue for negative weights in proportion to their size.
  static func weightTable(_ kernel: ImageKernel, cell: Int = 30) -> Image {
    let rows = kernel.weights
    let columns = rows.map(\.count).max() ?? 0
    let largest = max(rows.joined().map(abs).max() ?? 1, 1e-6)
    var canvas = Canvas(width: columns * cell + 1, height: rows.count * cell + 1, background: RGB(150, 150, 150))
    for (r, row) in rows.enumerated() {
      for (c, value) in row.enumerated() {
        let strength = Int((abs(value) / largest * 150).rounded())
        let shade =
          value > 0
          ? RGB(255, UInt8(255 - strength), UInt8(255 - strength))
          : RGB(UInt8(255 - strength), UInt8(255 - strength / 2), 255)
        canvas.fill(x: c * cell + 1, y: r * cell + 1, width: cell - 1, height: cell - 1, color: shade)
        let text = weightText(value)
        canvas.text(
          text, x: c * cell + 1 + (cell - 1 - Canvas.textWidth(text)) / 2, y: r * cell + 1 + (cell - 1 - 7) / 2,
          color: RGB(20, 20, 20))
      }
    }
    return canvas.image
  }

  /// `1`, `-2`, `1/9`, `0.35`: a whole number, a fraction with a small denominator, or two
  /// decimals.
  static func weightText(_ value: Float) -> String {
    if value == value.rounded() { return String(Int(value)) }
    for denominator in 2...16 {
      let numerator = value * Float(denominator)
      if abs(numerator - numerator.rounded()) < 1e-4 { return "\(Int(numerator.rounded()))/\(denominator)" }
    }
    return String(format2(value))
  }

  private static func format2(_ value: Float) -> String {
    let scaled = Int((abs(value) * 100).rounded())
    let fraction = scaled % 100
    return (value < 0 ? "-" : "") + "\(scaled / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
  }
}
