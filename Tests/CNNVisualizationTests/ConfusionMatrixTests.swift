import CNNTensor
import CNNTraining
import Foundation
import Testing

@testable import CNNVisualization

@Suite struct ConfusionMatrixFileTests {
  /// A file in a fresh temporary directory holding `text`.
  private func file(_ text: String) throws -> String {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("cnnkit-matrix-\(UUID().uuidString).json")
    try Data(text.utf8).write(to: url)
    return url.path
  }

  /// Bug: `cnn evaluate --json` wrote `"confusion"`, `cnn visualize confusion --matrix` wanted
  /// `"matrix"`. The report's own JSON must now draw as it is.
  @Test func theJSONOfAClassificationReportIsAMatrixFile() throws {
    var report = ClassificationReport(classNames: ["cat", "dog", "bird"])
    report.add(
      logits: Tensor(shape: [4, 3], scalars: [9, 0, 0, 0, 9, 0, 9, 0, 0, 0, 0, 9]), labels: [0, 1, 1, 2])
    let path = try file(report.json + "\n")
    let matrix = try ConfusionMatrix.read(from: path)
    #expect(matrix.classNames == ["cat", "dog", "bird"])
    #expect(matrix.counts == [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    #expect(matrix.counts == report.confusion)
  }

  @Test func filesWrittenBeforeAndTheMatrixOwnJSONRead() throws {
    let old = try file(#"{"event":"evaluation","class_names":["a","b"],"confusion":[[3,1],[0,4]]}"#)
    #expect(try ConfusionMatrix.read(from: old) == ConfusionMatrix(classNames: ["a", "b"], counts: [[3, 1], [0, 4]]))
    let matrix = ConfusionMatrix(classNames: ["x/y", "\"z\""], counts: [[1, 2], [3, 4]])
    #expect(matrix.json == #"{"class_names":["x/y","\"z\""],"matrix":[[1,2],[3,4]]}"# + "\n")
    #expect(try ConfusionMatrix.read(from: file(matrix.json)) == matrix)
    let unnamed = try ConfusionMatrix.read(from: file(#"{"matrix":[[1,0],[0,1]]}"#))
    #expect(unnamed.classNames == ["0", "1"])
  }

  @Test(arguments: [
    ("[1, 2]", "not a JSON object"),
    ("cat dog", "not a JSON object"),
    (#"{"class_names":["a"]}"#, "no \"matrix\" array of arrays"),
    (#"{"matrix":5}"#, "no \"matrix\" array of arrays"),
    (#"{"matrix":[[1,2],[3,-4]]}"#, "counts must be whole numbers of zero or more"),
    (#"{"matrix":[[1,2.5],[3,4]]}"#, "counts must be whole numbers of zero or more"),
    (#"{"matrix":[[1,2,3],[3,4,5]]}"#, "it must be square"),
    (#"{"matrix":[]}"#, "it must be square"),
    (#"{"class_names":["a"],"matrix":[[1,2],[3,4]]}"#, "1 class names for a 2×2 matrix"),
  ])
  func badFilesSayWhatIsWrong(text: String, problem: String) throws {
    let path = try file(text)
    do {
      _ = try ConfusionMatrix.read(from: path)
      Issue.record("\(text) was read")
    } catch let error as TrainingLogError {
      #expect(error.problem.contains(problem), "\(error.problem)")
      #expect(error.description.contains("---> HINT: "))
    }
  }
}

/// Bug: CIFAR-10's names were a run of overlapping labels (13-pixel text centred on 46-pixel
/// columns). Every label now has a box that the pictures draw in, and no two boxes meet.
@Suite struct ConfusionMatrixLayoutTests {
  static let cifar10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

  /// A matrix of `names` with `diagonal` on the diagonal and small counts elsewhere (some 0).
  static func matrix(_ names: [String], diagonal: Int = 870) -> ConfusionMatrix {
    let n = names.count
    let counts = (0..<n).map { row in (0..<n).map { column in row == column ? diagonal : (row * 7 + column * 3) % 40 } }
    return ConfusionMatrix(classNames: names, counts: counts)
  }

  static let cases: [ConfusionMatrix] = [
    matrix(cifar10),
    matrix(["a", "b", "c"], diagonal: 5),
    matrix(["cat", "dog"], diagonal: 1_234_567),
    matrix((0..<30).map { "a rather long class name \($0)" }, diagonal: 98_765),
    matrix((0..<10).map(String.init)),
  ]

  private func check(_ layout: ConfusionMatrixLayout, _ label: String) {
    let picture = ConfusionMatrixLayout.Box(x: 0, y: 0, width: layout.width, height: layout.height)
    let grid = ConfusionMatrixLayout.Box(x: layout.left, y: layout.top, width: layout.side, height: layout.side)
    let boxes = layout.textBoxes.filter { $0.width > 0 }
    for (i, a) in boxes.enumerated() {
      #expect(picture.contains(a), "\(label): \(a) is outside the \(layout.width)×\(layout.height) picture")
      for b in boxes[(i + 1)...] { #expect(!a.overlaps(b), "\(label): \(a) overlaps \(b)") }
    }
    for box in layout.columnLabels + layout.rowLabels + layout.recalls + [layout.title, layout.predictedCaption] {
      #expect(!box.overlaps(grid), "\(label): \(box) lies on the grid")
    }
    for (row, boxes) in layout.counts.enumerated() {
      for (column, box) in boxes.enumerated() where box.width > 0 {
        let cell = ConfusionMatrixLayout.Box(
          x: layout.left + Double(column) * layout.cell, y: layout.top + Double(row) * layout.cell,
          width: layout.cell, height: layout.cell)
        #expect(cell.contains(box), "\(label): count \(row),\(column) \(box) spills out of its cell \(cell)")
      }
    }
  }

  @Test(arguments: cases)
  func noTwoLabelsOverlap(matrix: ConfusionMatrix) {
    check(matrix.svgLayout(title: "Confusion matrix"), "SVG \(matrix.classCount) classes")
    check(matrix.imageLayout(), "PNG \(matrix.classCount) classes")
  }

  @Test func columnLabelsAreVerticalAndMarginsFitTheLongestName() {
    let matrix = Self.matrix(Self.cifar10)
    let layout = matrix.imageLayout()
    let automobile = Double(Canvas.textWidth("automobile", scale: 2))
    #expect(layout.columnLabels[1].height == automobile && layout.columnLabels[1].width == 18)
    #expect(layout.rowLabels[1].width == automobile && layout.rowLabels[1].maxX == layout.left - 8)
    #expect(layout.columnLabels.allSatisfy { $0.maxY == layout.top - 8 })
    let svg = matrix.svg().render()
    #expect(svg.contains(">automobile</text>"))
    let rotated = svg.split(separator: "<text").filter { $0.contains("rotate(-90") && $0.contains(">automobile<") }
    #expect(rotated.count == 1)
  }

  /// The PNG draws each column label inside its box: above the grid, every inked pixel is in
  /// some label's box, and every box has ink.
  @Test func thePictureDrawsWhereTheLayoutSays() {
    let matrix = Self.matrix(Self.cifar10)
    let layout = matrix.imageLayout()
    let image = matrix.image()
    #expect(image.width == Int(layout.width) && image.height == Int(layout.height))
    let bandTop = Int(layout.columnLabels.map(\.y).min() ?? 0), bandBottom = Int(layout.top)
    var inkOutside = 0
    var inkInside = [Int](repeating: 0, count: matrix.classCount)
    for y in bandTop..<bandBottom {
      for x in Int(layout.left)..<Int(layout.left + layout.side) where image[x, y, 0] < 128 {
        let point = ConfusionMatrixLayout.Box(x: Double(x), y: Double(y), width: 1, height: 1)
        if let index = layout.columnLabels.firstIndex(where: { $0.contains(point) }) {
          inkInside[index] += 1
        } else {
          inkOutside += 1
        }
      }
    }
    #expect(inkOutside == 0)
    #expect(inkInside.allSatisfy { $0 > 0 }, "\(inkInside)")
  }
}

extension ConfusionMatrix: CustomTestStringConvertible {
  public var testDescription: String { "\(classCount) classes" }
}
