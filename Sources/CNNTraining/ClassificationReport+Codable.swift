import Foundation

/// The JSON form of a report (`cnn evaluate --json`), on one line:
///
///     {"event":"evaluation","accuracy":0.95,"class_names":["0","1",…],"correct":95,"count":100,
///      "loss":0.21,"matrix":[[9,1,…],…],"per_class_accuracy":[0.9,…],"top5_accuracy":1,
///      "top5_correct":100}
///
/// `matrix[actual][predicted]` and `class_names` are what `cnn visualize confusion --matrix`
/// draws. `top5_…` appear only with more than 5 classes; a class without samples has a `null`
/// accuracy. Decoding also reads the older form, whose matrix was under `confusion` and which
/// had no `correct` or `top5_correct` (they are then recomputed from the matrix and the
/// accuracy).
extension ClassificationReport: Codable {
  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { nil }

    static let count = Key("count"), correct = Key("correct"), loss = Key("loss"), accuracy = Key("accuracy")
    static let classNames = Key("class_names"), perClassAccuracy = Key("per_class_accuracy")
    static let matrix = Key("matrix"), oldMatrix = Key("confusion")
    static func topKAccuracy(_ k: Int) -> Key { Key("top\(k)_accuracy") }
    static func topKCorrect(_ k: Int) -> Key { Key("top\(k)_correct") }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: Key.self)
    try container.encode(count, forKey: .count)
    try container.encode(correct, forKey: .correct)
    try container.encode(loss, forKey: .loss)
    try container.encode(accuracy, forKey: .accuracy)
    if let k = topK, let topKCorrect, let topKAccuracy {
      try container.encode(topKCorrect, forKey: .topKCorrect(k))
      try container.encode(topKAccuracy, forKey: .topKAccuracy(k))
    }
    try container.encode(classNames, forKey: .classNames)
    try container.encode(perClassAccuracy, forKey: .perClassAccuracy)
    try container.encode(confusion, forKey: .matrix)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: Key.self)
    let key: Key = container.contains(.matrix) || !container.contains(.oldMatrix) ? .matrix : .oldMatrix
    let matrix = try container.decode([[Int]].self, forKey: key)
    let names = try container.decode([String].self, forKey: .classNames)
    guard matrix.count == names.count, matrix.allSatisfy({ $0.count == names.count }) else {
      throw DecodingError.dataCorruptedError(
        forKey: key, in: container,
        debugDescription: "a \(names.count)-class report needs \(names.count)×\(names.count) counts, "
          + "got rows of \(matrix.map(\.count))")
    }
    self.init(classNames: names)
    confusion = matrix
    count = try container.decodeIfPresent(Int.self, forKey: .count) ?? matrix.joined().reduce(0, +)
    correct = try container.decodeIfPresent(Int.self, forKey: .correct) ?? names.indices.reduce(0) { $0 + matrix[$1][$1] }
    loss = try container.decode(Float.self, forKey: .loss)
    lossSum = Double(loss) * Double(count)
    if let k = topK {
      let fraction = try container.decodeIfPresent(Float.self, forKey: .topKAccuracy(k)) ?? 0
      topKCorrect =
        try container.decodeIfPresent(Int.self, forKey: .topKCorrect(k)) ?? Int((fraction * Float(count)).rounded())
    }
  }

  /// The report as one JSON object on one line (no newline), `event` first:
  /// `{"event":"evaluation","accuracy":…,"class_names":[…],…,"matrix":[[…]],…}`.
  public var json: String { JSONLines.line(event: "evaluation", self) }

  /// Whether two reports hold the same results. The running loss sum is left out: a decoded
  /// report rebuilds it from the rounded ``loss``.
  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.classNames == rhs.classNames && lhs.count == rhs.count && lhs.loss == rhs.loss && lhs.correct == rhs.correct
      && lhs.topK == rhs.topK && lhs.topKCorrect == rhs.topKCorrect && lhs.confusion == rhs.confusion
  }
}
