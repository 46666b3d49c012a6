import CNNKernels
import CNNTensor

/// The mean softmax cross-entropy of `logits [N, L]` against `labels` (N class indices),
/// and `∂loss/∂logits = (softmax − onehot) / N`, in one fused, stable pass (log-sum-exp).
public func softmaxCrossEntropy(logits: Tensor, labels: [Int]) -> (loss: Float, dLogits: Tensor) {
  precondition(
    logits.shape.rank == 2 && logits.shape[0] == labels.count,
    "softmaxCrossEntropy expects logits [\(labels.count), classes] for \(labels.count) labels, got \(logits.shape)")
  let classes = logits.shape[1]
  var loss: Float = 0
  let dLogits = Tensor(shape: logits.shape, writingWith: { d in
    logits.withPointer { z in
      labels.withUnsafeBufferPointer { y in
        loss = softmaxCrossEntropy(logits: z, labels: y, classes: classes, dLogits: d)
      }
    }
  })
  return (loss, dLogits)
}

/// The mean softmax cross-entropy, without the gradient.
public func softmaxCrossEntropyLoss(logits: Tensor, labels: [Int]) -> Float {
  precondition(
    logits.shape.rank == 2 && logits.shape[0] == labels.count,
    "softmaxCrossEntropy expects logits [\(labels.count), classes] for \(labels.count) labels, got \(logits.shape)")
  return logits.withPointer { z in
    labels.withUnsafeBufferPointer { y in
      softmaxCrossEntropy(logits: z, labels: y, classes: logits.shape[1], dLogits: nil)
    }
  }
}

/// Row-wise softmax of `logits [N, L]`: probabilities that sum to 1 per row.
public func softmax(_ logits: Tensor) -> Tensor {
  precondition(logits.shape.rank == 2, "softmax expects [N, classes], got \(logits.shape)")
  return Tensor(shape: logits.shape, writingWith: { p in
    logits.withPointer { z in softmaxForward(logits: z, probabilities: p, rows: logits.shape[0], classes: logits.shape[1]) }
  })
}

extension Tensor {
  /// The index of the largest element of each row of `[N, L]`.
  public func argmaxRows() -> [Int] {
    precondition(shape.rank == 2, "argmaxRows expects [N, L], got \(shape)")
    let rows = shape[0], columns = shape[1]
    return withPointer { p in
      (0..<rows).map { n in
        var best = 0
        for j in 1..<max(1, columns) where p[n * columns + j] > p[n * columns + best] { best = j }
        return best
      }
    }
  }
}
