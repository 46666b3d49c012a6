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
