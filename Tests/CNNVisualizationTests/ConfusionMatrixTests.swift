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
