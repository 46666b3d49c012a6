import CNNData
import CNNLayers
import CNNTensor

/// Loss and accuracy of a classifier on a whole dataset.
public struct Evaluation: Sendable, Equatable {
  /// Mean softmax cross-entropy over all samples.
  public var loss: Float
  /// Fraction of samples whose largest logit is the label.
  public var accuracy: Float
  /// How many samples were evaluated.
  public var count: Int
  /// How many were classified correctly.
  public var correct: Int
}

extension Layer {
  /// Evaluates the model in inference mode on every sample of `dataset` (not a sample of it).
  public func evaluate(on dataset: Dataset, batchSize: Int = 100) -> Evaluation {
    evaluate(on: dataset, batchSize: batchSize, normalization: nil)
  }

  /// Evaluates the model on every sample of `dataset`, its pixels scaled to `[0, 1]` and then
  /// normalized with `normalization` (the one used in training), if any.
  public func evaluate(on dataset: Dataset, batchSize: Int = 100, normalization: Normalization?) -> Evaluation {
    var lossSum: Double = 0
    var correct = 0
    let preparation = BatchPreparation(normalization: normalization)
    let batches = dataset.batches(size: batchSize)
    for batch in BatchLoader(batches, preparation: preparation, prefetch: 0) {
      let logits = self(batch.images)
      lossSum += Double(softmaxCrossEntropyLoss(logits: logits, labels: batch.labels)) * Double(batch.labels.count)
      correct += zip(logits.argmaxRows(), batch.labels).filter { $0 == $1 }.count
    }
    let count = dataset.count
    return Evaluation(
      loss: count > 0 ? Float(lossSum / Double(count)) : 0,
      accuracy: count > 0 ? Float(correct) / Float(count) : 0, count: count, correct: correct)
  }
}
