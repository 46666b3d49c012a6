import CNNData
import CNNTensor
import Foundation

extension ConfusionMatrix {
  /// Reads a confusion matrix from JSON: `{"class_names": ["0", "1", …], "matrix": [[…], …]}`,
  /// rows the true classes and columns the predictions. `class_names` may be left out
  /// (the classes are then numbered from 0).
  ///
  /// - Throws: ``ImageFileError`` when the file is missing, ``TrainingLogError`` when it is not
  ///   such an object or the matrix is not square.
  public static func read(from path: String) throws -> ConfusionMatrix {
    let bytes = try readBytes(path)
    func failure(_ problem: String) -> TrainingLogError {
      TrainingLogError(
        file: path, problem: problem,
        hint: "write {\"class_names\": [\"cat\", \"dog\"], \"matrix\": [[50, 3], [7, 40]]}: one row per true class.")
    }
    guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
      throw failure("not a JSON object")
    }
    guard let rows = object["matrix"] as? [[Any]] else { throw failure("no \"matrix\" array of arrays") }
    let counts = try rows.map { row in
      try row.map { value -> Int in
        guard let number = value as? NSNumber, number.doubleValue >= 0, number.doubleValue == number.doubleValue.rounded()
        else { throw failure("counts must be whole numbers of zero or more") }
        return number.intValue
      }
    }
    guard !counts.isEmpty, counts.allSatisfy({ $0.count == counts.count }) else {
      throw failure("the matrix is \(counts.count) rows of \(counts.map(\.count)) counts; it must be square")
    }
    let names = (object["class_names"] as? [Any])?.map { "\($0)" } ?? (0..<counts.count).map(String.init)
    guard names.count == counts.count else {
      throw failure("\(names.count) class names for a \(counts.count)×\(counts.count) matrix")
    }
    return ConfusionMatrix(classNames: names, counts: counts)
  }

  /// The matrix as JSON in the format ``read(from:)`` reads.
  public var json: String {
    let names = classNames.map { JSONText.quoted($0) }.joined(separator: ", ")
    let rows = counts.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ",\n    ")
    return "{\n  \"class_names\": [\(names)],\n  \"matrix\": [\n    \(rows)\n  ]\n}\n"
  }
}
