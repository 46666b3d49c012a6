import CNNData
/// Where each part of a confusion-matrix picture goes, worked out from the size of every label
/// so that no two labels overlap, however long the class names (CIFAR-10's `automobile`):
///
/// - column labels are written vertically, reading bottom to top, one per column, each no
///   wider than a line of text, so columns need only be a line of text wide;
/// - row labels are right-aligned against the grid;
/// - the margins above and left of the grid are as deep as the longest name.
///
/// The SVG and PNG pictures draw from the same layout, each measuring text its own way, and
/// the tests check the boxes it computes.
struct ConfusionMatrixLayout {
  /// A rectangle in picture coordinates (y grows downwards).
  struct Box: Equatable, CustomStringConvertible {
    var x: Double
    var y: Double
    var width: Double
    var height: Double

    var maxX: Double { x + width }
    var maxY: Double { y + height }
    var midX: Double { x + width / 2 }
    var midY: Double { y + height / 2 }

    /// Whether the two boxes share some area (touching edges do not count).
    func overlaps(_ other: Box) -> Bool {
      x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }

    /// Whether `other` lies wholly inside this box.
    func contains(_ other: Box) -> Bool {
      other.x >= x && other.y >= y && other.maxX <= maxX && other.maxY <= maxY
    }

    var description: String { "(\(x), \(y)) \(width)×\(height)" }
  }

  /// How one picture format measures and spaces text.
  struct Metrics {
    /// The side of a cell.
    var cell: Double
    /// The height of a line of label text (the width of a vertical label).
    var lineHeight: Double
    /// The width of a class name, a count, or a caption, in that format's font.
    var labelWidth: (String) -> Double
    var countWidth: (String) -> Double
    var captionWidth: (String) -> Double
    /// The width of the title, which may be in a larger font.
    var titleWidth: (String) -> Double
    /// A line under the grid explaining the shades, or `nil` for none.
    var footnote: String? = nil
    /// The height of a caption line ("predicted class", "recall", the title).
    var captionHeight: Double
    /// Space between a label and what it labels.
    var gap: Double
    /// The space above the column labels for the title and "predicted class".
    var headerHeight: Double
    /// The width of the margin right of the grid, for the recall column.
    var recallWidth: Double
    /// The space under the grid.
    var footerHeight: Double
  }

  /// The number of classes.
  let classCount: Int
  /// The side of a cell.
  let cell: Double
  /// The grid's top-left corner.
  let left: Double, top: Double
  /// The picture's size.
  let width: Double, height: Double
  /// Class `i`'s label above column `i`, written vertically (bottom to top).
  let columnLabels: [Box]
  /// Class `i`'s label left of row `i`, right-aligned.
  let rowLabels: [Box]
  /// `counts[actual][predicted]`'s text, centred in its cell.
  let counts: [[Box]]
  /// Row `i`'s recall, right of the grid.
  let recalls: [Box]
  /// The captions: the title, "predicted class" (above the column labels), "true class"
  /// (vertical, left of the row labels) and "recall" (above the recall column).
  let title: Box, predictedCaption: Box, trueCaption: Box, recallCaption: Box
  /// The line under the grid, if any.
  let footnote: Box?

  /// The side of the grid.
  var side: Double { cell * Double(classCount) }

  /// Every box that holds text.
  var textBoxes: [Box] {
    columnLabels + rowLabels + counts.flatMap { $0 } + recalls + [title, predictedCaption, trueCaption, recallCaption]
      + (footnote.map { [$0] } ?? [])
  }

  init(
    classNames: [String], counts countTexts: [[String]], recalls recallTexts: [String], title titleText: String,
    metrics m: Metrics
  ) {
    classCount = classNames.count
    cell = m.cell
    let widths = classNames.map(m.labelWidth)
    let longest = widths.max() ?? 0
    // Left to right: "true class" (vertical), the row labels, the grid, the recall column.
    let left = m.gap + m.captionHeight + m.gap + longest + m.gap
    // Top to bottom: the title, "predicted class", the column labels, the grid.
    let top = m.headerHeight + longest + m.gap
    let side = m.cell * Double(classNames.count)
    self.left = left
    self.top = top
    func centre(_ index: Int) -> Double { (Double(index) + 0.5) * m.cell }

    columnLabels = widths.enumerated().map { i, w in
      Box(x: left + centre(i) - m.lineHeight / 2, y: top - m.gap - w, width: m.lineHeight, height: w)
    }
    rowLabels = widths.enumerated().map { i, w in
      Box(x: left - m.gap - w, y: top + centre(i) - m.lineHeight / 2, width: w, height: m.lineHeight)
    }
    counts = countTexts.enumerated().map { row, texts in
      texts.enumerated().map { column, text in
        let w = m.countWidth(text)
        return Box(
          x: left + centre(column) - w / 2, y: top + centre(row) - m.lineHeight / 2, width: w, height: m.lineHeight)
      }
    }
    recalls = recallTexts.enumerated().map { row, text in
      Box(
        x: left + side + m.gap, y: top + centre(row) - m.captionHeight / 2, width: m.captionWidth(text),
        height: m.captionHeight)
    }
    let trueWidth = m.captionWidth("true class")
    trueCaption = Box(
      x: m.gap, y: max(m.headerHeight, top + side / 2 - trueWidth / 2), width: m.captionHeight, height: trueWidth)
    let predictedWidth = m.captionWidth("predicted class")
    predictedCaption = Box(
      x: max(m.gap, left + side / 2 - predictedWidth / 2), y: m.headerHeight - m.gap - m.captionHeight, width: predictedWidth,
      height: m.captionHeight)
    recallCaption = Box(
      x: left + side + m.gap, y: top - m.gap - m.captionHeight, width: m.captionWidth("recall"),
      height: m.captionHeight)

    let footnoteWidth = m.footnote.map(m.captionWidth) ?? 0
    footnote = m.footnote.map { _ in
      Box(
        x: max(m.gap, left + side / 2 - footnoteWidth / 2), y: top + side + m.gap * 2, width: footnoteWidth,
        height: m.captionHeight)
    }
    let titleWidth = m.titleWidth(titleText)
    let right = ([predictedCaption, recallCaption] + recalls + (footnote.map { [$0] } ?? [])).map(\.maxX).max() ?? 0
    width = max(left + side + m.recallWidth, right + m.gap, titleWidth + 2 * m.gap)
    height = max(top + side + m.footerHeight, trueCaption.maxY + m.gap, (footnote?.maxY ?? 0) + m.gap)
    title = Box(x: (width - titleWidth) / 2, y: m.gap, width: titleWidth, height: m.captionHeight)
  }
}
