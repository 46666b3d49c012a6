import CNNData
import CNNLayers
import CNNTensor

/// How often each class was predicted as each other class: `counts[actual][predicted]`.
public struct ConfusionMatrix: Sendable, Equatable {
  /// One name per class.
  public var classNames: [String]
  /// `counts[actual][predicted]`, `classCount × classCount`.
  public var counts: [[Int]]

  /// Creates a matrix from counts; it must be square with one row per class name.
  public init(classNames: [String], counts: [[Int]]) {
    precondition(
      counts.count == classNames.count && counts.allSatisfy { $0.count == classNames.count },
      "ConfusionMatrix needs \(classNames.count)×\(classNames.count) counts, got \(counts.map(\.count))")
    self.classNames = classNames
    self.counts = counts
  }

  /// Counts pairs of true labels and predictions (each in `0..<classNames.count`).
  public init(labels: [Int], predictions: [Int], classNames: [String]) {
    precondition(labels.count == predictions.count, "\(labels.count) labels but \(predictions.count) predictions")
    var counts = [[Int]](repeating: [Int](repeating: 0, count: classNames.count), count: classNames.count)
    for (label, prediction) in zip(labels, predictions) { counts[label][prediction] += 1 }
    self.init(classNames: classNames, counts: counts)
  }

  /// Classifies every image of `dataset` with `model` (inference mode; the largest logit wins).
  public init(model: any Layer, dataset: Dataset, batchSize: Int = 500) {
    var predictions: [Int] = []
    predictions.reserveCapacity(dataset.count)
    for batch in dataset.batches(size: batchSize) { predictions += model(batch.images).argmaxRows() }
    self.init(labels: dataset.labels, predictions: predictions, classNames: dataset.classNames)
  }

  /// The number of classes.
  public var classCount: Int { classNames.count }
  /// All samples counted.
  public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
  /// Samples on the diagonal.
  public var correct: Int { (0..<classCount).reduce(0) { $0 + counts[$1][$1] } }
  /// `correct / total` (0 when empty).
  public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
  /// Samples whose true class is `actual`.
  public func rowTotal(_ actual: Int) -> Int { counts[actual].reduce(0, +) }

  /// The fill of a cell: white for none of its row, dark blue for all of it.
  func cellColour(actual: Int, predicted: Int) -> RGB {
    let row = rowTotal(actual)
    let fraction = row == 0 ? 0 : Double(counts[actual][predicted]) / Double(row)
    let t = fraction > 0 ? 0.08 + 0.92 * fraction.squareRoot() : 0
    func mix(_ light: Double, _ dark: Double) -> UInt8 { UInt8((light + (dark - light) * t).rounded()) }
    return RGB(mix(247, 8), mix(251, 48), mix(255, 107))
  }

  /// Whether a cell's count should be written in white (on a dark fill).
  func usesLightText(actual: Int, predicted: Int) -> Bool {
    let c = cellColour(actual: actual, predicted: predicted)
    return 299 * Int(c.red) + 587 * Int(c.green) + 114 * Int(c.blue) < 140_000
  }
}

// MARK: - Pictures

extension ConfusionMatrix {
  /// The matrix as SVG: a grid of cells shaded by the fraction of their row (true class),
  /// each with its count, class names on both axes, each row's recall at the right, and the
  /// overall accuracy in the title.
  public func svg(title: String = "Confusion matrix") -> SVGDocument {
    let cell = classCount <= 12 ? 46.0 : max(18, 560 / Double(classCount))
    let fontSize = min(13, cell * 0.3)
    let longest = Double(classNames.map(\.count).max() ?? 1)
    let left = 40 + longest * 7.5, top = 78.0
    let side = cell * Double(classCount)
    var svg = SVGDocument(width: left + side + 84, height: top + side + 56)
    svg.rect(x: 0, y: 0, width: svg.width, height: svg.height, fill: "#ffffff")
    let percent = fixed(accuracy * 100, decimals: 1)
    svg.text("\(title): \(correct) of \(total) correct (\(percent)%)", x: svg.width / 2, y: 24, size: 15, anchor: .middle, bold: true)
    svg.text("predicted class", x: left + side / 2, y: 48, size: 12, anchor: .middle)
    svg.text("true class", x: 16, y: top + side / 2, size: 12, anchor: .middle, rotation: -90)
    svg.text("recall", x: left + side + 42, y: top - 8, size: 11, anchor: .middle, fill: "#555555")
    for (index, name) in classNames.enumerated() {
      let centre = Double(index) + 0.5
      svg.text(name, x: left + centre * cell, y: top - 8, size: fontSize, anchor: .middle)
      svg.text(name, x: left - 8, y: top + centre * cell + fontSize / 3, size: fontSize, anchor: .end)
    }
    for actual in 0..<classCount {
      for predicted in 0..<classCount {
        let c = cellColour(actual: actual, predicted: predicted)
        let x = left + Double(predicted) * cell, y = top + Double(actual) * cell
        svg.rect(x: x, y: y, width: cell, height: cell, fill: "rgb(\(c.red),\(c.green),\(c.blue))", stroke: "#ffffff")
        let count = counts[actual][predicted]
        if count > 0 || actual == predicted {
          svg.text(
            String(count), x: x + cell / 2, y: y + cell / 2 + fontSize / 3, size: fontSize, anchor: .middle,
            fill: usesLightText(actual: actual, predicted: predicted) ? "#ffffff" : "#222222",
            bold: actual == predicted)
        }
      }
      let row = rowTotal(actual)
      let recall = row == 0 ? "–" : fixed(Double(counts[actual][actual]) / Double(row) * 100, decimals: 1) + "%"
      svg.text(recall, x: left + side + 42, y: top + (Double(actual) + 0.5) * cell + 4, size: 11, anchor: .middle, fill: "#555555")
    }
    svg.rect(x: left, y: top, width: side, height: side, fill: "none", stroke: "#888888")
    svg.text(
      "cell shade = share of the true class's samples; diagonal = correct", x: left + side / 2, y: top + side + 30,
      size: 11, anchor: .middle, fill: "#555555")
    return svg
  }

  /// The same picture as a raster (for PNG), drawn with the 5×7 bitmap font.
  public func image() -> Image {
    let textScale = 2, grey = RGB(90, 90, 90)
    let cell = max(32, (String(counts.flatMap { $0 }.max() ?? 0).count * BitmapFont.advance + 8) * textScale)
    let nameWidth = (classNames.map { Canvas.textWidth($0, scale: textScale) }.max() ?? 0)
    let left = max(nameWidth, Canvas.textWidth("true", scale: textScale)) + 24, top = 92
    let side = cell * classCount
    var canvas = Canvas(width: left + side + 96, height: top + side + 16)
    let title = "\(correct) of \(total) correct (\(fixed(accuracy * 100, decimals: 1))%)"
    canvas.text(title, x: (canvas.width - Canvas.textWidth(title, scale: textScale)) / 2, y: 10, scale: textScale)
    let predicted = "predicted class"
    canvas.text(
      predicted, x: left + (side - Canvas.textWidth(predicted, scale: textScale)) / 2, y: 40, color: grey, scale: textScale)
    canvas.text("recall", x: left + side + 10, y: top - 22, color: grey, scale: textScale)
    canvas.text("true", x: 8, y: top - 22, color: grey, scale: textScale)
    for (index, name) in classNames.enumerated() {
      let width = Canvas.textWidth(name, scale: textScale)
      canvas.text(name, x: left + index * cell + (cell - width) / 2, y: top - 22, scale: textScale)
      canvas.text(name, x: left - 10 - width, y: top + index * cell + (cell - 14) / 2, scale: textScale)
    }
    for actual in 0..<classCount {
      for column in 0..<classCount {
        let x = left + column * cell, y = top + actual * cell
        canvas.fill(x: x, y: y, width: cell, height: cell, color: .white)
        canvas.fill(x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, color: cellColour(actual: actual, predicted: column))
        let count = counts[actual][column]
        if count > 0 || actual == column {
          let text = String(count), width = Canvas.textWidth(text, scale: textScale)
          let colour = usesLightText(actual: actual, predicted: column) ? RGB.white : RGB(30, 30, 30)
          canvas.text(text, x: x + (cell - width) / 2, y: y + (cell - 14) / 2, color: colour, scale: textScale)
        }
      }
      let row = rowTotal(actual)
      let recall = row == 0 ? "-" : fixed(Double(counts[actual][actual]) / Double(row) * 100, decimals: 1) + "%"
      canvas.text(recall, x: left + side + 10, y: top + actual * cell + (cell - 14) / 2, color: RGB(70, 70, 70), scale: textScale)
    }
    return canvas.image
  }
}
