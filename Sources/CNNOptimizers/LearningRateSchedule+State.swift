/// The part of a schedule that is not a function of the position in the run: what
/// reduce-on-plateau has seen so far. Saved with a checkpoint so a resumed run reduces its
/// rate exactly when one that never stopped would.
public struct ScheduleState: Codable, Sendable, Equatable {
  /// The lowest loss seen, or `nil` before the first epoch (JSON has no infinity).
  public var best: Float?
  /// Epochs since the last improvement (or reduction).
  public var badEpochs: Int
  /// Reductions so far.
  public var reductions: Int

  public init(best: Float?, badEpochs: Int, reductions: Int) {
    self.best = best
    self.badEpochs = badEpochs
    self.reductions = reductions
  }
}

extension LearningRateSchedule {
  /// Reduce-on-plateau's state, or `nil` for the schedules that keep none.
  public var state: ScheduleState? {
    guard case .reduceOnPlateau(let plateau) = decay else { return nil }
    return ScheduleState(
      best: plateau.best.isFinite ? plateau.best : nil, badEpochs: plateau.badEpochs, reductions: plateau.reductions)
  }

  /// Puts a saved ``state`` back.
  /// - Returns: `false` (and no change) when the state does not fit this schedule or holds
  ///   impossible values (negative counts, a NaN).
  @discardableResult
  public mutating func restore(_ state: ScheduleState?) -> Bool {
    guard case .reduceOnPlateau(var plateau) = decay else { return state == nil }
    guard let state else { return true }
    guard state.badEpochs >= 0, state.reductions >= 0, state.reductions <= 10_000, state.best.map({ !$0.isNaN }) ?? true
    else { return false }
    plateau.best = state.best ?? .infinity
    plateau.badEpochs = state.badEpochs
    plateau.reductions = state.reductions
    decay = .reduceOnPlateau(plateau)
    return true
  }
}
