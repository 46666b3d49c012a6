import CNNData
/// Small images in labelled rows and columns: a dataset's samples, or one sample and its
/// augmented copies (`cnn visualize augment`).
public enum SampleGrid {
  /// Each row's images left to right, scaled `scale` times (nearest), 1-pixel framed, with
  /// the row's label at the left and `columnTitles` above the columns (bitmap font, RGB).
  public static func picture(
    rows: [(label: String, images: [Image])], columnTitles: [String] = [], scale: Int = 2
  ) -> Image {
    precondition(scale >= 1, "SampleGrid scale must be at least 1, got \(scale)")
    let textScale = 2, gap = 6, margin = 10
    let cellWidth = (rows.flatMap(\.images).map(\.width).max() ?? 1) * scale
    let cellHeight = (rows.flatMap(\.images).map(\.height).max() ?? 1) * scale
    let columns = rows.map(\.images.count).max() ?? 0
    // Columns are as wide as the widest image or title; images sit centred in them.
    let columnWidth = max(cellWidth, columnTitles.map { Canvas.textWidth($0, scale: textScale) }.max() ?? 0)
    let labelWidth = (rows.map { Canvas.textWidth($0.label, scale: textScale) }.max() ?? 0) + (rows.isEmpty ? 0 : 12)
    let titleHeight = columnTitles.isEmpty ? 0 : BitmapFont.lineHeight * textScale + 6
    let width = margin * 2 + labelWidth + columns * (columnWidth + gap)
    let height = margin * 2 + titleHeight + rows.count * (cellHeight + gap)
    var canvas = Canvas(width: max(1, width), height: max(1, height))
    let left = margin + labelWidth
    for (column, title) in columnTitles.prefix(columns).enumerated() {
      let titleWidth = Canvas.textWidth(title, scale: textScale)
      canvas.text(
        title, x: left + column * (columnWidth + gap) + (columnWidth - titleWidth) / 2, y: margin,
        color: RGB(60, 60, 60), scale: textScale)
    }
    for (index, row) in rows.enumerated() {
      let top = margin + titleHeight + index * (cellHeight + gap)
      canvas.text(row.label, x: margin, y: top + (cellHeight - BitmapFont.glyphHeight * textScale) / 2, scale: textScale)
      for (column, image) in row.images.enumerated() {
        canvas.drawFramed(
          image.scaled(by: scale), x: left + column * (columnWidth + gap) + (columnWidth - image.width * scale) / 2, y: top)
      }
    }
    return canvas.image
  }
}
