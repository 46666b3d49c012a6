import CNNData
import CNNTraining
import Foundation

/// The JSON form of a confusion matrix: `{"class_names": ["0", "1", …], "matrix": [[…], …]}`,
/// rows the true classes and columns the predictions: the keys `cnn evaluate --json` writes
/// (``ClassificationReport``), so its output can be drawn as it is. `class_names` may be left
/// out (the classes are then numbered from 0), and the matrix may be under `confusion`, as
/// `cnn evaluate --json` wrote it before.
extension ConfusionMatrix: Codable {
  enum CodingKeys: String, CodingKey {
    case matrix, confusion
    case classNames = "class_names"
  }

  /// Why a decoded matrix cannot be drawn.
  struct Problem: Error {
    var message: String
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(classNames, forKey: .classNames)
    try container.encode(counts, forKey: .matrix)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let key: CodingKeys = container.contains(.matrix) || !container.contains(.confusion) ? .matrix : .confusion
    // Read as numbers and checked here: Foundation's decoder reports a fraction where an `Int`
    // belongs as invalid JSON, which would hide the real problem.
    let numbers = try container.decode([[Double]].self, forKey: key)
    guard numbers.allSatisfy({ $0.allSatisfy { $0 >= 0 && $0 == $0.rounded() && $0 < 0x1p53 } }) else {
      throw Problem(message: "counts must be whole numbers of zero or more")
    }
    let counts = numbers.map { $0.map { Int($0) } }
    guard !counts.isEmpty, counts.allSatisfy({ $0.count == counts.count }) else {
      throw Problem(message: "the matrix is \(counts.count) rows of \(counts.map(\.count)) counts; it must be square")
    }
    let names = try container.decodeIfPresent([String].self, forKey: .classNames) ?? counts.indices.map(String.init)
    guard names.count == counts.count else {
      throw Problem(message: "\(names.count) class names for a \(counts.count)×\(counts.count) matrix")
    }
    self.init(classNames: names, counts: counts)
  }

  /// Reads a matrix written by `cnn evaluate --json`, by ``json``, or by hand in that form.
  ///
  /// - Throws: ``ImageFileError`` when the file is missing, ``TrainingLogError`` when it is not
  ///   such an object or the matrix is not square.
  public static func read(from path: String) throws -> ConfusionMatrix {
    let bytes = try readBytes(path)
    do {
      return try JSONDecoder().decode(ConfusionMatrix.self, from: Data(bytes))
    } catch {
      throw TrainingLogError(
        file: path, problem: problem(error),
        hint: "write {\"class_names\": [\"cat\", \"dog\"], \"matrix\": [[50, 3], [7, 40]]}: one row per true "
          + "class, or pass the output of `cnn evaluate --json`.")
    }
  }

  private static func problem(_ error: any Error) -> String {
    if let problem = error as? Problem { return problem.message }
    guard let error = error as? DecodingError else { return "\(error)" }
    switch error {
    case .keyNotFound(let key, let context) where context.codingPath.isEmpty:
      return key.stringValue == CodingKeys.matrix.rawValue ? "no \"matrix\" array of arrays" : "no \"\(key.stringValue)\""
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      if context.codingPath.isEmpty { return "not a JSON object" }
      if [CodingKeys.matrix.rawValue, CodingKeys.confusion.rawValue].contains(context.codingPath[0].stringValue) {
        return context.codingPath.count >= 3
          ? "counts must be whole numbers of zero or more" : "no \"matrix\" array of arrays"
      }
      return JSONLines.summary(of: error)
    default:
      return JSONLines.summary(of: error)
    }
  }

  /// The matrix as one line of JSON in the form ``read(from:)`` reads.
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return ((try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
  }
}
