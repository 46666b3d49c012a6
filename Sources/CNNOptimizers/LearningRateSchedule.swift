import RealModule

/// The learning rate over a run: a decay by epoch (step, exponential, cosine, reduce-on-plateau,
/// or none) times an optional linear warm-up by step.
///
/// For epoch `e` (from 1) and the step `s` of the run (from 0, counting every batch):
///
///     lr = base · warmup(s) · decay(e)
///     warmup(s)        = min(1, (s + 1) / (warmupEpochs · batchesPerEpoch))   (1 with no warm-up)
///     step             decay(e) = γ^⌊(e − 1) / every⌋                (torch StepLR)
///     exponential      decay(e) = γ^(e − 1)                          (torch ExponentialLR)
///     cosine           lr = min + (base − min)·(1 + cos(π·(e − 1)/T))/2   (torch CosineAnnealingLR)
///     reduce-on-plateau decay = factor^reductions, at least `minimum`  (torch ReduceLROnPlateau)
///
/// Decays count from the first epoch, warm-up or not, so the warm-up multiplies whatever the
/// decay gives (torch's `LambdaLR` composed with the others). Everything but reduce-on-plateau
/// is a function of the position; reduce-on-plateau keeps state (``ReduceOnPlateau``), which
/// ``stateDescription`` and ``restoreState(_:)`` save and restore for resuming.
public struct LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
  /// How the rate falls from epoch to epoch.
  public enum Decay: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// Multiplied by `factor` every `every` epochs.
    case step(every: Int, factor: Float)
    /// Multiplied by `factor` every epoch.
    case exponential(factor: Float)
    /// Half a cosine from the base rate down to `minimum` over `epochs` epochs.
    case cosine(epochs: Int, minimum: Float)
    /// Multiplied by the plateau's factor when the monitored loss stops improving.
    case reduceOnPlateau(ReduceOnPlateau)
  }

  /// The rate before any decay or warm-up.
  public var baseLearningRate: Float
  /// The decay.
  public var decay: Decay
  /// Epochs of linear warm-up from `base / warm-up steps` to `base` (0 for none).
  public var warmupEpochs: Int

  public init(baseLearningRate: Float, decay: Decay = .constant, warmupEpochs: Int = 0) {
    precondition(baseLearningRate >= 0 && baseLearningRate.isFinite, "Schedule needs a base rate ≥ 0, got \(baseLearningRate)")
    precondition(warmupEpochs >= 0, "Schedule needs warm-up epochs ≥ 0, got \(warmupEpochs)")
    switch decay {
    case .step(let every, let factor):
      precondition(every >= 1 && factor > 0, "Step decay needs every ≥ 1 and factor > 0, got \(every), \(factor)")
    case .exponential(let factor): precondition(factor > 0, "Exponential decay needs factor > 0, got \(factor)")
    case .cosine(let epochs, let minimum):
      precondition(epochs >= 1 && minimum >= 0, "Cosine decay needs epochs ≥ 1 and minimum ≥ 0, got \(epochs), \(minimum)")
    case .constant, .reduceOnPlateau: break
    }
    self.baseLearningRate = baseLearningRate
    self.decay = decay
    self.warmupEpochs = warmupEpochs
  }

  /// The rate for step `batch` (from 0) of `epoch` (from 1).
  public func learningRate(epoch: Int, batch: Int = 0, batchesPerEpoch: Int = 1) -> Float {
    let base = Double(baseLearningRate)
    let completed = Double(max(0, epoch - 1))
    var rate: Double
    switch decay {
    case .constant: rate = base
    case .step(let every, let factor): rate = base * Double.pow(Double(factor), Double(max(0, epoch - 1) / every))
    case .exponential(let factor): rate = base * Double.pow(Double(factor), completed)
    case .cosine(let epochs, let minimum):
      let progress = min(completed, Double(epochs)) / Double(epochs)
      rate = Double(minimum) + (base - Double(minimum)) * (1 + Double.cos(Double.pi * progress)) / 2
    case .reduceOnPlateau(let plateau): rate = plateau.learningRate(base: base)
    }
    if warmupEpochs > 0 {
      let steps = Double(warmupEpochs * max(1, batchesPerEpoch))
      let step = completed * Double(max(1, batchesPerEpoch)) + Double(batch)
      rate *= min(1, (step + 1) / steps)
    }
    return Float(rate)
  }

  /// Tells the schedule an epoch ended with `loss` (the test loss, or the training loss when
  /// there is no test set). Only reduce-on-plateau listens.
  public mutating func endOfEpoch(loss: Float) {
    guard case .reduceOnPlateau(var plateau) = decay else { return }
    plateau.observe(loss)
    decay = .reduceOnPlateau(plateau)
  }

  /// Whether the rate never changes (no decay, no warm-up).
  public var isConstant: Bool {
    guard case .constant = decay else { return false }
    return warmupEpochs == 0
  }

  /// The spelling ``init(parsing:baseLearningRate:epochs:)`` reads, with a cosine's length
  /// written out (`cosine=12,warmup=2`): ``specification``'s.
  public var description: String { specification.description }

  /// The schedule as it was asked for, with this plan's lengths and state-free settings.
  public var specification: ScheduleSpecification {
    let decay: ScheduleSpecification.Decay
    switch self.decay {
    case .constant: decay = .constant
    case .step(let every, let factor): decay = .step(every: every, factor: factor)
    case .exponential(let factor): decay = .exponential(factor: factor)
    case .cosine(let epochs, let minimum): decay = .cosine(epochs: epochs, minimum: minimum)
    case .reduceOnPlateau(let plateau):
      decay = .reduceOnPlateau(
        factor: plateau.factor, patience: plateau.patience, threshold: plateau.threshold, minimum: plateau.minimum)
    }
    return ScheduleSpecification(decay: decay, warmupEpochs: warmupEpochs)
  }

  /// Parses a schedule (``ScheduleSpecification/init(parsing:)``) and plans it for a run of
  /// `epochs` epochs from `baseLearningRate`.
  /// - Throws: `ScheduleError` naming the part that is not understood.
  public init(parsing text: String, baseLearningRate: Float, epochs: Int) throws(ScheduleError) {
    self = try ScheduleSpecification(parsing: text).planned(baseLearningRate: baseLearningRate, epochs: epochs)
  }

  /// The state that is not a function of the position (reduce-on-plateau's), as text; `""`
  /// when there is none.
  public var stateDescription: String {
    guard case .reduceOnPlateau(let plateau) = decay else { return "" }
    return "best=\(plateau.best),bad_epochs=\(plateau.badEpochs),reductions=\(plateau.reductions)"
  }

  /// Restores ``stateDescription``; `false` (and no change) if the text does not fit.
  @discardableResult
  public mutating func restoreState(_ text: String) -> Bool {
    guard case .reduceOnPlateau(var plateau) = decay else { return text.isEmpty }
    var values: [String: String] = [:]
    for part in text.split(separator: ",") {
      let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
      if pieces.count == 2 { values[pieces[0]] = pieces[1] }
    }
    guard let best = values["best"].flatMap(Float.init), let bad = values["bad_epochs"].flatMap(Int.init),
      let reductions = values["reductions"].flatMap(Int.init), bad >= 0, reductions >= 0
    else { return false }
    plateau.best = best
    plateau.badEpochs = bad
    plateau.reductions = reductions
    decay = .reduceOnPlateau(plateau)
    return true
  }
}

/// Reduce-on-plateau (`torch.optim.lr_scheduler.ReduceLROnPlateau`, mode `min`, relative
/// threshold): after more than `patience` epochs without the loss falling below
/// `best · (1 − threshold)`, multiply the rate by `factor` (not below `minimum`).
public struct ReduceOnPlateau: Sendable, Equatable {
  /// The multiplier applied at each reduction.
  public var factor: Float
  /// Epochs without improvement tolerated before reducing.
  public var patience: Int
  /// The relative improvement that counts.
  public var threshold: Float
  /// The lowest rate.
  public var minimum: Float
  /// The lowest loss seen.
  public internal(set) var best: Float = .infinity
  /// Epochs since the last improvement (or reduction).
  public internal(set) var badEpochs = 0
  /// Reductions so far.
  public internal(set) var reductions = 0

  public init(factor: Float = 0.1, patience: Int = 10, threshold: Float = 1e-4, minimum: Float = 0) {
    precondition(factor > 0 && factor < 1, "ReduceOnPlateau needs a factor in (0, 1), got \(factor)")
    precondition(patience >= 0 && threshold >= 0 && minimum >= 0, "ReduceOnPlateau needs patience, threshold, minimum ≥ 0")
    self.factor = factor
    self.patience = patience
    self.threshold = threshold
    self.minimum = minimum
  }

  /// The rate after the reductions so far.
  func learningRate(base: Double) -> Double {
    max(base * Double.pow(Double(factor), Double(reductions)), min(base, Double(minimum)))
  }

  /// Records an epoch's loss; reduces after `patience` epochs without improvement.
  mutating func observe(_ loss: Float) {
    if loss.isFinite && loss < best * (1 - threshold) {
      best = loss
      badEpochs = 0
    } else {
      badEpochs += 1
    }
    if badEpochs > patience {
      reductions += 1
      badEpochs = 0
    }
  }
}

/// A schedule that cannot be parsed.
public struct ScheduleError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The whole schedule text.
  public var text: String
  /// What is wrong.
  public var reason: String

  public var description: String {
    "schedule '\(text)': \(reason).\n---> HINT: write e.g. step=10,gamma=0.1 | exponential=0.95 | "
      + "cosine | plateau,patience=2,factor=0.5, each optionally with ,warmup=2."
  }
}
