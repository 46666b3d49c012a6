import Foundation

/// Pauses, resumes and stops a run from another thread (a dashboard, a signal handler). The
/// trainer looks at it between steps, so a request takes effect within one step.
///
///     let control = TrainingControl()
///     session.control = control
///     DispatchQueue.global().async { try session.run() }
///     control.pause()                          // the run waits before its next step
///     control.resume()
///     control.requestStop(atEpochEnd: true)   // finish this epoch, save, stop
///     control.requestLearningRate(0.0005)      // from the next step on, in place of the schedule
public final class TrainingControl: @unchecked Sendable {
  /// When a requested stop happens.
  public enum StopRequest: Sendable, Equatable {
    /// Before the next step; the checkpoint keeps the last whole epoch.
    case now
    /// After the current epoch is evaluated and saved.
    case atEpochEnd
  }

  private let condition = NSCondition()
  private var paused = false
  private var request: StopRequest?
  private var learningRateRequest: Float?

  public init() {}

  /// Whether the run is held before its next step.
  public var isPaused: Bool { condition.withLock { paused } }

  /// The stop asked for, if any.
  public var stopRequest: StopRequest? { condition.withLock { request } }

  /// Holds the run before its next step until ``resume()`` (or a stop).
  public func pause() { condition.withLock { paused = true } }

  /// Lets a paused run go on.
  public func resume() {
    condition.withLock {
      paused = false
      condition.broadcast()
    }
  }

  /// Asks the run to stop, now or at the end of the current epoch; a paused run is released
  /// so it can stop. An earlier `.now` is not weakened by a later `.atEpochEnd`.
  public func requestStop(atEpochEnd: Bool = false) {
    condition.withLock {
      if request != .now { request = atEpochEnd ? .atEpochEnd : .now }
      paused = false
      condition.broadcast()
    }
  }

  /// Asks the run to train with `learningRate` from its next step on. The trainer applies it
  /// between steps, reports it as a `control` event, and keeps it for the rest of the run in
  /// place of the schedule (a checkpoint still records the schedule's own state).
  public func requestLearningRate(_ learningRate: Float) {
    precondition(learningRate > 0 && learningRate.isFinite, "a learning rate must be positive and finite, got \(learningRate)")
    condition.withLock { learningRateRequest = learningRate }
  }

  /// The learning rate asked for since the last call, if any (the trainer takes it once).
  func takeLearningRateRequest() -> Float? {
    condition.withLock {
      defer { learningRateRequest = nil }
      return learningRateRequest
    }
  }

  /// Blocks the calling (training) thread while paused.
  func waitWhilePaused() {
    condition.lock()
    while paused && request == nil { condition.wait() }
    condition.unlock()
  }
}
