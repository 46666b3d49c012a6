import CNNData
import CNNKernels
import CNNLayers
import CNNTensor

/// How a classifier does on every sample of a dataset: accuracy, loss, top-5 accuracy (when
/// there are more than 5 classes), accuracy per class and the confusion matrix.
///
/// It evaluates any `Layer` in inference mode and knows nothing of checkpoints:
///
///     let report = ClassificationReport(model: model, dataset: fashion.test)
///     print(report.text)
public struct ClassificationReport: Sendable, Equatable {
  /// A name per class, by label.
  public var classNames: [String]
  /// Samples evaluated: the whole dataset.
  public var count: Int
  /// Mean softmax cross-entropy.
  public var loss: Float
  /// Samples whose largest logit is their label.
  public var correct: Int
  /// `k` of the top-k accuracy: 5 when there are more than 5 classes, else `nil`.
  public var topK: Int?
  /// Samples whose label is among the `topK` largest logits (ties count in the label's favour).
  public var topKCorrect: Int?
  /// `confusion[actual][predicted]`: how many samples of class `actual` were predicted as
  /// `predicted` (the `matrix` of the JSON form).
  public var confusion: [[Int]]

  /// `correct / count`.
  public var accuracy: Float { count > 0 ? Float(correct) / Float(count) : 0 }
  /// `topKCorrect / count`.
  public var topKAccuracy: Float? { topKCorrect.map { count > 0 ? Float($0) / Float(count) : 0 } }
  /// Samples per class, by label.
  public var classCounts: [Int] { confusion.map { $0.reduce(0, +) } }
  /// The accuracy (recall) of each class; `nil` for a class with no samples.
  public var perClassAccuracy: [Float?] {
    confusion.indices.map { c in
      let total = confusion[c].reduce(0, +)
      return total > 0 ? Float(confusion[c][c]) / Float(total) : nil
    }
  }

  /// Evaluates `model` on every sample of `dataset` (scaled to `[0, 1]`, then normalized with
  /// `normalization` if given, as in training).
  public init(model: any Layer, dataset: Dataset, batchSize: Int = 500, normalization: Normalization? = nil) {
    precondition(batchSize > 0, "ClassificationReport needs batchSize > 0, got \(batchSize)")
    self.init(classNames: dataset.classNames)
    var generator = SeededGenerator(seed: 0)  // unused: evaluation does not augment
    let preparation = BatchPreparation(normalization: normalization)
    let batches = dataset.batches(size: batchSize)
    for position in batches.indices {
      let start = position * batchSize
      let batch = dataset.batch(
        indices: batches.order[start..<min(start + batchSize, dataset.count)], preparation: preparation,
        using: &generator)
      add(logits: model(batch.images), labels: batch.labels)
    }
  }

  /// An empty report for `classNames`, to be filled with ``add(logits:labels:)``.
  public init(classNames: [String]) {
    self.classNames = classNames
    count = 0
    loss = 0
    correct = 0
    topK = classNames.count > 5 ? 5 : nil
    topKCorrect = topK.map { _ in 0 }
    confusion = Array(repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
    lossSum = 0
  }

  /// The sum of the batch losses (each times its batch size), from which ``loss`` is kept.
  var lossSum: Double

  /// Adds a batch of logits `[B, classCount]` and their labels.
  public mutating func add(logits: Tensor, labels: [Int]) {
    let classes = classNames.count
    precondition(
      logits.shape.rank == 2 && logits.shape[0] == labels.count && logits.shape[1] == classes,
      "ClassificationReport expects logits [\(labels.count), \(classes)], got \(logits.shape)")
    guard !labels.isEmpty else { return }
    lossSum += Double(softmaxCrossEntropyLoss(logits: logits, labels: labels)) * Double(labels.count)
    let predicted = logits.argmaxRows()
    logits.withUnsafeBufferPointer { values in
      for (row, label) in labels.enumerated() {
        precondition((0..<classes).contains(label), "Label \(label) is not below the class count \(classes)")
        confusion[label][predicted[row]] += 1
        if predicted[row] == label { correct += 1 }
        if let k = topK {
          let target = values[row * classes + label]
          var above = 0
          for c in 0..<classes where values[row * classes + c] > target { above += 1 }
          if above < k { topKCorrect? += 1 }
        }
      }
    }
    count += labels.count
    loss = Float(lossSum / Double(count))
  }

  /// A plain-text report: totals, per-class accuracy, and the confusion matrix.
  public var text: String {
    var lines: [String] = []
    var headline = "accuracy \(percent(accuracy)) (\(correct.grouped)/\(count.grouped))"
    if let k = topK, let topKAccuracy { headline += "  top-\(k) \(percent(topKAccuracy))" }
    headline += "  loss \(loss.formatted(4))"
    lines.append(headline)
    lines.append("")
    lines.append("per class:")
    let nameWidth = min(24, classNames.map(\.count).max() ?? 1)
    for (c, name) in classNames.enumerated() {
      let total = confusion[c].reduce(0, +)
      let value = perClassAccuracy[c].map(percent) ?? "-"
      lines.append(
        "  \(pad(String(c), 3)) \(name.padding(nameWidth))  \(pad(value, 7))  (\(confusion[c][c].grouped)/\(total.grouped))")
    }
    lines.append("")
    lines.append("confusion matrix (rows: true class, columns: predicted class):")
    let width = max(4, (confusion.flatMap { $0 }.max() ?? 0).grouped.count + 1)
    lines.append("     " + classNames.indices.map { pad(String($0), width) }.joined())
    for (c, row) in confusion.enumerated() {
      lines.append(pad(String(c), 3) + "  " + row.map { pad($0.grouped, width) }.joined())
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

private func percent(_ value: Float) -> String { "\((value * 100).formatted(2))%" }

private func pad(_ text: String, _ width: Int) -> String {
  String(repeating: " ", count: max(0, width - text.count)) + text
}

extension String {
  fileprivate func padding(_ width: Int) -> String {
    let cut = count > width ? String(prefix(width)) : self
    return cut + String(repeating: " ", count: max(0, width - cut.count))
  }
}
