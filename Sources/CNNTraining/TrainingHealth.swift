/// Watches a run for the two ways training visibly fails, so it can stop with an explanation
/// instead of burning hours: a loss that is NaN or infinite (checked after every step and
/// every evaluation), and accuracy stuck at chance for several epochs in a row.
///
/// "Chance" is the accuracy of always guessing the most common class of the evaluated set
/// (`1 / classCount` when balanced); an epoch is at chance when its accuracy (test, or training
/// when there is no test set) is at most 2 points above it. ``chancePatience`` is `nil` by
/// default in the library (tiny or random-label experiments legitimately sit at chance) and 3
/// in `cnn train`.
public struct TrainingHealth: Sendable, Equatable {
  /// Consecutive epochs at chance that stop the run, or `nil` never to stop for that.
  public var chancePatience: Int?
  /// Epochs in a row at chance so far (saved with a checkpoint to resume exactly).
  public var epochsAtChance = 0

  /// A watcher that stops on a non-finite loss, and after `chancePatience` epochs at chance.
  public init(chancePatience: Int? = nil) {
    precondition(chancePatience.map { $0 >= 1 } ?? true, "chancePatience must be ≥ 1, got \(chancePatience ?? 0)")
    self.chancePatience = chancePatience
  }

  /// Checks one training step's loss.
  public func check(loss: Float, epoch: Int, batch: Int) -> TrainingStop? {
    loss.isFinite ? nil : .nonFiniteLoss(epoch: epoch, batch: batch, loss: loss)
  }

  /// Checks a finished epoch against the chance accuracy `chance`.
  public mutating func check(_ summary: EpochSummary, chance: Float) -> TrainingStop? {
    if let loss = summary.testLoss, !loss.isFinite { return .nonFiniteLoss(epoch: summary.epoch, batch: nil, loss: loss) }
    let accuracy = summary.testAccuracy ?? summary.trainAccuracy
    epochsAtChance = accuracy <= chance + 0.02 ? epochsAtChance + 1 : 0
    if let patience = chancePatience, epochsAtChance >= patience {
      return .stuckAtChance(epochs: epochsAtChance, accuracy: accuracy, chance: chance)
    }
    return nil
  }

  /// The accuracy of always predicting the most common label of `labels` (0 when empty).
  public static func chanceAccuracy(of labels: [Int]) -> Float {
    guard !labels.isEmpty else { return 0 }
    var counts: [Int: Int] = [:]
    for label in labels { counts[label, default: 0] += 1 }
    return Float(counts.values.max() ?? 0) / Float(labels.count)
  }
}

/// Why `Trainer.fit` stopped before its last epoch: what happened and what to try.
public enum TrainingStop: Sendable, Equatable, CustomStringConvertible {
  /// The loss became NaN or infinite at `batch` (1-based) of `epoch`, or in the evaluation
  /// after it when `batch` is `nil`.
  case nonFiniteLoss(epoch: Int, batch: Int?, loss: Float)
  /// Accuracy stayed within 2 points of `chance` for `epochs` epochs in a row.
  case stuckAtChance(epochs: Int, accuracy: Float, chance: Float)
  /// ``TrainingControl/requestStop(atEpochEnd:)`` asked for a stop, honoured after `batch` of
  /// `epoch` (`nil`: at the end of the epoch).
  case requested(epoch: Int, batch: Int?)

  /// A short identifier: `non_finite_loss`, `stuck_at_chance`.
  public var kind: String {
    switch self {
    case .nonFiniteLoss: return "non_finite_loss"
    case .stuckAtChance: return "stuck_at_chance"
    case .requested: return "requested"
    }
  }

  /// What happened.
  public var problem: String {
    switch self {
    case .nonFiniteLoss(let epoch, let batch, let loss):
      let place = batch.map { "at batch \($0) of epoch \(epoch)" } ?? "when evaluating epoch \(epoch)"
      return "the loss became \(loss) \(place); the weights have diverged, so training stopped"
        + " (the last checkpoint, if any, is from before)"
    case .stuckAtChance(let epochs, let accuracy, let chance):
      return "accuracy has stayed at chance for \(epochs) epochs (\(percent(accuracy)) against "
        + "\(percent(chance)) for always guessing the commonest class), so training stopped"
    case .requested(let epoch, let batch):
      return batch.map { "training stopped on request after batch \($0) of epoch \(epoch)" }
        ?? "training stopped on request after epoch \(epoch)"
    }
  }

  /// What to try.
  public var hint: String {
    switch self {
    case .nonFiniteLoss:
      return "lower the learning rate (e.g. ÷10, or --schedule warmup=1), clip gradients (--clip-norm 1), "
        + "and check the inputs are normalised (--normalize) and the initialisation suits the activations."
    case .stuckAtChance:
      return "the network is not learning: try a smaller learning rate (or a larger one for SGD), "
        + "another initialisation (He for ReLU), normalised inputs (--normalize), and check that "
        + "labels match images."
    case .requested(_, let batch):
      return batch == nil
        ? "the checkpoint holds this epoch; `cnn train --resume FILE` continues the run exactly."
        : "the checkpoint holds the last whole epoch; `cnn train --resume FILE` continues from there."
    }
  }

  /// `problem`, then `---> HINT:` and `hint`.
  public var description: String { "\(problem).\n---> HINT: \(hint)" }
}

private func percent(_ value: Float) -> String { "\((value * 100).formatted(2))%" }
