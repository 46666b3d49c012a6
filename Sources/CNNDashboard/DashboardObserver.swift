import CNNData
import CNNLayers
import CNNModels
import CNNTraining
import Foundation

/// A training observer that feeds a ``DashboardHub``: every training event as `cnn train
/// --json` writes it, the model's layers and sample images when training starts, a
/// ``Snapshot`` at most every ``interval`` while a page is connected, and a confusion matrix
/// after each epoch. It also runs the page's drawings through the model between steps.
///
/// Everything that reads the model runs on the training thread between two steps (or while
/// the run is paused or finished), so nothing reads weights while the optimizer writes them.
/// A snapshot costs two of the training thread's moments: recording gradient statistics in
/// the step after it is due (``inspectGradients(_:)``, set as the session's
/// `gradientInspector`), then drawing the views after that step.
public final class DashboardObserver: TrainingObserver, @unchecked Sendable {
  public let hub: DashboardHub
  public let maker: SnapshotMaker
  /// The least time between two snapshots.
  public var interval: Duration
  /// The test split for the confusion matrices, or `nil`.
  let test: Dataset?
  let description: ModelDescription

  private enum Phase { case idle, wantsGradients, captured }
  private var phase = Phase.idle
  private var watch: ParameterWatch
  private var lastSnapshot: ContinuousClock.Instant?
  private var position = (epoch: 0, batch: 0)

  /// Guards ``DrawingQueue``: whether the training thread is between steps, and the drawings waiting.
  private let lock = NSLock()
  private var trainingIdle = true
  private var waiting: [(pixels: [Float], reply: CheckedContinuation<DrawingPrediction, Never>)] = []

  public init(
    hub: DashboardHub, model: any Layer, description: ModelDescription, test: Dataset?, normalization: Normalization?,
    interval: Duration = .milliseconds(1500)
  ) {
    self.hub = hub
    self.maker = SnapshotMaker(model: model, test: test, normalization: normalization)
    self.description = description
    self.test = test
    self.interval = interval
    self.watch = ParameterWatch(model: model)
  }

  /// Sends the model description and the sample images (before training starts, or for a
  /// finished run).
  public func publishIntroduction() {
    hub.publish(DashboardMessage.jsonLine("model", description))
    hub.publish(DashboardMessage.jsonLine("samples", maker.sampleImages()))
  }

  /// Sends a snapshot of the model as it is (no gradient statistics): for a run that is not training.
  public func publishStillSnapshot() {
    let snapshot = maker.snapshot(epoch: position.epoch, batch: position.batch, statistics: [])
    hub.publish(DashboardMessage.jsonLine("snapshot", snapshot), retention: .latest("snapshot"))
  }

  /// The trainer's gradient inspector: records the gradients and weights when a snapshot is due.
  public func inspectGradients(_ parameters: [Parameter]) {
    guard phase == .wantsGradients else { return }
    watch.capture(parameters)
    phase = .captured
  }

  public func receive(_ event: TrainingEvent) {
    let droppable: Bool
    if case .batch = event { droppable = true } else { droppable = false }
    hub.publish(event.jsonLine, retention: .history, droppable: droppable)
    switch event {
    case .started:
      setIdle(false)
    case .batch(let progress):
      position = (progress.epoch, progress.batch)
      serveDrawings()
      stepSnapshot()
    case .epoch(let summary):
      if let test {
        let confusion = maker.confusion(on: test, epoch: summary.epoch)
        hub.publish(DashboardMessage.jsonLine("confusion", confusion))
      }
      serveDrawings()
    case .control(let change):
      setIdle(change.action == .paused)
    case .finished:
      if phase == .captured { _ = watch.finish() }
      phase = .idle
      publishStillSnapshot()
      setIdle(true)
    }
  }

  /// Advances the snapshot's two phases; called after every step.
  private func stepSnapshot() {
    switch phase {
    case .idle:
      let now = ContinuousClock.now
      if hub.subscriberCount > 0, lastSnapshot.map({ now - $0 >= interval }) ?? true {
        phase = .wantsGradients
      }
    case .wantsGradients:
      // A step went by without the inspector (a trainer without one): no statistics this time.
      publishSnapshot(statistics: [])
    case .captured:
      publishSnapshot(statistics: watch.finish())
    }
  }

  private func publishSnapshot(statistics: [Snapshot.ParameterStatistics]) {
    let snapshot = maker.snapshot(epoch: position.epoch, batch: position.batch, statistics: statistics)
    hub.publish(DashboardMessage.jsonLine("snapshot", snapshot), retention: .latest("snapshot"))
    lastSnapshot = ContinuousClock.now
    phase = .idle
  }

  // MARK: - Drawings

  /// The prediction for a drawing (`C·H·W` pixels in `[0, 1]`): computed at once while the run
  /// is not stepping, else by the training thread after its current step.
  public func predict(pixels: [Float]) async -> DrawingPrediction {
    await withCheckedContinuation { reply in
      lock.lock()
      if trainingIdle {
        let result = maker.predict(pixels: pixels, shape: description.inputShape)
        lock.unlock()
        reply.resume(returning: result)
      } else {
        waiting.append((pixels, reply))
        lock.unlock()
      }
    }
  }

  private func setIdle(_ idle: Bool) {
    lock.withLock {
      trainingIdle = idle
      if idle { serveDrawingsLocked() }
    }
  }

  private func serveDrawings() { lock.withLock { serveDrawingsLocked() } }

  private func serveDrawingsLocked() {
    guard !waiting.isEmpty else { return }
    // Only the newest drawing matters; older ones get the same answer.
    let newest = waiting[waiting.count - 1]
    let result = maker.predict(pixels: newest.pixels, shape: description.inputShape)
    for request in waiting { request.reply.resume(returning: result) }
    waiting.removeAll()
  }
}
