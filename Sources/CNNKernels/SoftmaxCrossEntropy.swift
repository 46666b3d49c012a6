// Softmax and cross-entropy, fused and numerically stable.
// logits [N, L] (L classes), labels [N] in 0..<L, dLogits [N, L].
import RealModule

/// The mean cross-entropy of `softmax(logits)` against integer labels, and optionally
/// its gradient, in one pass.
///
/// Per row: `m = max_j z_j`, `log Σ_j e^(z_j) = m + log Σ_j e^(z_j − m)` (log-sum-exp, so no
/// overflow), `loss_n = logΣ − z_label`; `loss = (1/N) Σ_n loss_n`.
/// Gradient: `dLogits[n, j] = (softmax(z)_j − [j = label]) / N`.
///
/// - Parameters:
///   - logits: `[N, L]` row-major.
///   - labels: `N` class indices, each in `0 ..< L` (checked).
///   - dLogits: Where to write the `[N, L]` gradient, or `nil` to skip it.
/// - Returns: The mean loss.
public func softmaxCrossEntropy(
  logits: UnsafePointer<Float>, labels: UnsafeBufferPointer<Int>, classes: Int,
  dLogits: UnsafeMutablePointer<Float>?
) -> Float {
  let batch = labels.count
  guard batch > 0 else { return 0 }
  var total: Double = 0
  let scale = 1 / Float(batch)
  for n in 0..<batch {
    let row = logits + n * classes
    let label = labels[n]
    precondition(label >= 0 && label < classes, "Label \(label) at row \(n) is outside 0..<\(classes)")
    var maximum = -Float.infinity
    for j in 0..<classes { maximum = max(maximum, row[j]) }
    var sum: Float = 0
    for j in 0..<classes { sum += Float.exp(row[j] - maximum) }
    let logSumExp = maximum + Float.log(sum)
    total += Double(logSumExp - row[label])
    if let dLogits {
      let out = dLogits + n * classes
      for j in 0..<classes {
        out[j] = Float.exp(row[j] - logSumExp) * scale
      }
      out[label] -= scale
    }
  }
  return Float(total / Double(batch))
}

/// `y = softmax(z)` row by row, `y_j = e^(z_j − m) / Σ_k e^(z_k − m)` with `m = max z`.
public func softmaxForward(logits: UnsafePointer<Float>, probabilities: UnsafeMutablePointer<Float>, rows: Int, classes: Int) {
  for n in 0..<rows {
    let row = logits + n * classes
    let out = probabilities + n * classes
    var maximum = -Float.infinity
    for j in 0..<classes { maximum = max(maximum, row[j]) }
    var sum: Float = 0
    for j in 0..<classes {
      out[j] = Float.exp(row[j] - maximum)
      sum += out[j]
    }
    let inverse = 1 / sum
    for j in 0..<classes { out[j] *= inverse }
  }
}
