import CNNData
/// The matrix drawn as SVG and as PNG, from one ``ConfusionMatrixLayout`` each: class names
/// written vertically above the columns and right-aligned left of the rows, so that long names
/// (CIFAR-10's `automobile`, `airplane`) never run into each other.
extension ConfusionMatrix {
  /// The text of every cell that shows its count: counts above zero, and the diagonal.
  func countTexts() -> [[String]] {
    (0..<classCount).map { actual in
      (0..<classCount).map { predicted in
        counts[actual][predicted] > 0 || actual == predicted ? String(counts[actual][predicted]) : ""
      }
    }
  }

  /// Each row's recall, `77.4%`, or a dash for a class without samples.
  func recallTexts(dash: String) -> [String] {
    (0..<classCount).map { actual in
      let row = rowTotal(actual)
      return row == 0 ? dash : fixed(Double(counts[actual][actual]) / Double(row) * 100, decimals: 1) + "%"
    }
  }

  /// The SVG title line.
  func svgTitle(_ title: String) -> String {
    "\(title): \(correct) of \(total) correct (\(fixed(accuracy * 100, decimals: 1))%)"
  }

  /// The line under the SVG grid.
  static let svgFootnote = "cell shade = share of the true class's samples; diagonal = correct"

  /// The font size of class names in the SVG picture.
  var svgFontSize: Double { min(13, svgCell * 0.3) }
  /// The side of a cell in the SVG picture.
  var svgCell: Double { classCount <= 12 ? 46 : max(18, 560 / Double(classCount)) }
  /// The font size of the counts in the SVG picture: the label size, smaller if the largest
  /// count would not fit its cell.
  var svgCountSize: Double {
    let digits = Double(String(counts.joined().max() ?? 0).count)
    return min(svgFontSize, (svgCell - 6) / (0.64 * digits))
  }

  /// Where everything goes in ``svg(title:)``. Text widths are estimated, generously, from the
  /// character count (the viewer picks the font): 0.68 em per character for names and
  /// captions, 0.64 em per digit, 0.72 em for the bold title.
  func svgLayout(title: String) -> ConfusionMatrixLayout {
    let size = svgFontSize, countSize = svgCountSize
    let metrics = ConfusionMatrixLayout.Metrics(
      cell: svgCell, lineHeight: size,
      labelWidth: { Double($0.count) * 0.68 * size },
      countWidth: { Double($0.count) * 0.64 * countSize },
      captionWidth: { Double($0.count) * 0.68 * 12 },
      titleWidth: { Double($0.count) * 0.72 * 15 },
      footnote: Self.svgFootnote,
      captionHeight: 15, gap: 8, headerHeight: 64, recallWidth: 84, footerHeight: 16)
    return ConfusionMatrixLayout(
      classNames: classNames, counts: countTexts(), recalls: recallTexts(dash: "–"), title: svgTitle(title),
      metrics: metrics)
  }

  /// The matrix as SVG: a grid of cells shaded by the fraction of their row (true class),
  /// each with its count, class names on both axes (vertical above the columns), each row's
  /// recall at the right, and the overall accuracy in the title.
  public func svg(title: String = "Confusion matrix") -> SVGDocument {
    let layout = svgLayout(title: title)
    let size = svgFontSize, countSize = svgCountSize, cell = layout.cell
    var svg = SVGDocument(width: layout.width, height: layout.height)
    svg.rect(x: 0, y: 0, width: svg.width, height: svg.height, fill: "#ffffff")
    let box = layout.title
    svg.text(svgTitle(title), x: box.midX, y: box.maxY - 3, size: 15, anchor: .middle, bold: true)
    svg.text("predicted class", x: layout.predictedCaption.midX, y: layout.predictedCaption.maxY - 3, size: 12, anchor: .middle)
    svg.text(
      "true class", x: layout.trueCaption.midX + 4, y: layout.trueCaption.midY, size: 12, anchor: .middle, rotation: -90)
    svg.text(
      "recall", x: layout.recallCaption.x, y: layout.recallCaption.maxY - 3, size: 11, fill: "#555555")
    for (index, name) in classNames.enumerated() {
      let column = layout.columnLabels[index], row = layout.rowLabels[index]
      // Turned −90° about its start: the baseline runs up the column, glyphs to its left.
      svg.text(name, x: column.midX + size * 0.35, y: column.maxY, size: size, rotation: -90)
      svg.text(name, x: row.maxX, y: row.midY + size / 3, size: size, anchor: .end)
    }
    let texts = countTexts(), recalls = recallTexts(dash: "–")
    for actual in 0..<classCount {
      for predicted in 0..<classCount {
        let c = cellColour(actual: actual, predicted: predicted)
        let x = layout.left + Double(predicted) * cell, y = layout.top + Double(actual) * cell
        svg.rect(x: x, y: y, width: cell, height: cell, fill: "rgb(\(c.red),\(c.green),\(c.blue))", stroke: "#ffffff")
        guard !texts[actual][predicted].isEmpty else { continue }
        let box = layout.counts[actual][predicted]
        svg.text(
          texts[actual][predicted], x: box.midX, y: box.midY + countSize / 3, size: countSize, anchor: .middle,
          fill: usesLightText(actual: actual, predicted: predicted) ? "#ffffff" : "#222222",
          bold: actual == predicted)
      }
      let recall = layout.recalls[actual]
      svg.text(recalls[actual], x: recall.x, y: recall.midY + 4, size: 11, fill: "#555555")
    }
    svg.rect(x: layout.left, y: layout.top, width: layout.side, height: layout.side, fill: "none", stroke: "#888888")
    if let footnote = layout.footnote {
      svg.text(
        Self.svgFootnote, x: footnote.midX,
        y: footnote.maxY - 3, size: 11, anchor: .middle, fill: "#555555")
    }
    return svg
  }

  /// The PNG title line.
  var imageTitle: String { "\(correct) of \(total) correct (\(fixed(accuracy * 100, decimals: 1))%)" }

  /// The bitmap font's scale in ``image()``.
  static let imageTextScale = 2

  /// Where everything goes in ``image()``, measured in the 5×7 bitmap font at scale 2 (lines
  /// 18 pixels high, descenders included).
  func imageLayout() -> ConfusionMatrixLayout {
    let scale = Self.imageTextScale
    func width(_ text: String) -> Double { Double(Canvas.textWidth(text, scale: scale)) }
    let widest = String(counts.joined().max() ?? 0)
    let metrics = ConfusionMatrixLayout.Metrics(
      cell: Double(max(32, Canvas.textWidth(widest, scale: scale) + 16)),
      lineHeight: Double(BitmapFont.lineHeight * scale), labelWidth: width, countWidth: width,
      captionWidth: width, titleWidth: width, footnote: nil, captionHeight: Double(BitmapFont.lineHeight * scale),
      gap: 8, headerHeight: 70, recallWidth: 96, footerHeight: 16)
    return ConfusionMatrixLayout(
      classNames: classNames, counts: countTexts(), recalls: recallTexts(dash: "-"), title: imageTitle,
      metrics: metrics)
  }

  /// The same picture as a raster (for PNG), drawn with the 5×7 bitmap font.
  public func image() -> Image {
    let layout = imageLayout()
    let scale = Self.imageTextScale, grey = RGB(90, 90, 90), cell = Int(layout.cell)
    let left = Int(layout.left), top = Int(layout.top)
    var canvas = Canvas(width: Int(layout.width.rounded(.up)), height: Int(layout.height.rounded(.up)))
    func at(_ box: ConfusionMatrixLayout.Box) -> (x: Int, y: Int) { (Int(box.x.rounded()), Int(box.y.rounded())) }
    canvas.text(imageTitle, x: at(layout.title).x, y: at(layout.title).y, scale: scale)
    canvas.text("predicted class", x: at(layout.predictedCaption).x, y: at(layout.predictedCaption).y, color: grey, scale: scale)
    canvas.verticalText(
      "true class", x: at(layout.trueCaption).x, y: Int(layout.trueCaption.maxY.rounded()), color: grey, scale: scale)
    canvas.text("recall", x: at(layout.recallCaption).x, y: at(layout.recallCaption).y, color: grey, scale: scale)
    for (index, name) in classNames.enumerated() {
      let column = layout.columnLabels[index]
      canvas.verticalText(name, x: at(column).x, y: Int(column.maxY.rounded()), scale: scale)
      canvas.text(name, x: at(layout.rowLabels[index]).x, y: at(layout.rowLabels[index]).y, scale: scale)
    }
    let texts = countTexts(), recalls = recallTexts(dash: "-")
    for actual in 0..<classCount {
      for column in 0..<classCount {
        let x = left + column * cell, y = top + actual * cell
        canvas.fill(x: x, y: y, width: cell, height: cell, color: .white)
        canvas.fill(x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, color: cellColour(actual: actual, predicted: column))
        guard !texts[actual][column].isEmpty else { continue }
        let colour = usesLightText(actual: actual, predicted: column) ? RGB.white : RGB(30, 30, 30)
        let box = at(layout.counts[actual][column])
        canvas.text(texts[actual][column], x: box.x, y: box.y, color: colour, scale: scale)
      }
      let recall = at(layout.recalls[actual])
      canvas.text(recalls[actual], x: recall.x, y: recall.y, color: RGB(70, 70, 70), scale: scale)
    }
    return canvas.image
  }
}
