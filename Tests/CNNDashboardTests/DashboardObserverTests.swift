import CNNData
import CNNLayers
import CNNTensor
import CNNTraining
import Foundation
import Testing

@testable import CNNDashboard

@Suite struct DashboardObserverTests {
  /// What a page receives of a run: the `--json` lines unchanged, the model, the samples,
  /// snapshots with statistics (a page is connected), and a confusion matrix per epoch.
  @Test func aRunStreamsItsEventsAndSnapshots() async throws {
    let session = try TrainingSession(
      configuration: Fixtures.configuration(), training: Fixtures.training, test: Fixtures.test)
    let dashboard = LiveDashboard(session: session, checkpoint: nil)
    let observer = try #require(dashboard.observer)
    observer.interval = .zero  // a snapshot every other step
    let page = dashboard.hub.subscribe()
    let json = JSONLinesRecorder()
    try session.run(observers: [json, observer])
    dashboard.hub.finish()
    var messages: [String] = []
    for await message in page { messages.append(message) }

    let kinds = messages.map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
      .map { $0?["event"] as? String ?? "?" }
    #expect(kinds.first == "model" && kinds.dropFirst().first == "samples")
    // The training events are the `--json` lines, byte for byte and in order.
    let trainingLines = messages.filter { line in ["started", "batch", "epoch", "finished"].contains(where: { line.hasPrefix("{\"event\":\"\($0)\"") }) }
    #expect(trainingLines == json.lines)
    #expect(kinds.filter { $0 == "confusion" }.count == 2)
    let snapshots = messages.filter { $0.hasPrefix("{\"event\":\"snapshot\"") }
    #expect(snapshots.count >= 4)
    let decoded = try snapshots.map { try JSONLines.decoder().decode(Snapshot.self, from: Data($0.utf8)) }
    let withStatistics = decoded.filter { !$0.statistics.isEmpty }
    #expect(withStatistics.count >= 3)
    #expect(withStatistics.allSatisfy { $0.statistics.map(\.name) == ["0.weight", "0.bias", "4.weight", "4.bias", "6.weight", "6.bias"] })
    #expect(withStatistics.allSatisfy { $0.statistics.allSatisfy { $0.updateRatio > 0 && $0.weightStd > 0 } }, "\(withStatistics.map(\.statistics))")
  }

  /// Without a page connected, no snapshot is made (training pays nothing for it).
  @Test func noPageNoSnapshots() throws {
    let session = try TrainingSession(
      configuration: Fixtures.configuration(epochs: 1), training: Fixtures.training, test: Fixtures.test)
    let dashboard = LiveDashboard(session: session, checkpoint: nil)
    let observer = try #require(dashboard.observer)
    observer.interval = .zero
    try session.run(observers: [observer])
    // The one snapshot in the replay is the still one made when training finished.
    let snapshots = dashboard.hub.replay.filter { $0.hasPrefix("{\"event\":\"snapshot\"") }
    #expect(snapshots.count == 1)
    let snapshot = try JSONLines.decoder().decode(Snapshot.self, from: Data(snapshots[0].utf8))
    #expect(snapshot.statistics.isEmpty)
  }

  /// A learning rate asked for through the control replaces the schedule from the next step,
  /// and the run says so in a `control` event (also in `--json`).
  @Test func aNewLearningRateIsAppliedAndReported() throws {
    let session = try TrainingSession(
      configuration: Fixtures.configuration(), training: Fixtures.training, test: Fixtures.test)
    let recorder = Recorder()
    recorder.onBatch = { progress in
      if progress.epoch == 1 && progress.batch == 2 { session.control.requestLearningRate(0.0125) }
    }
    try session.run(observers: [recorder])
    let changes = recorder.events.compactMap { if case .control(let change) = $0 { change } else { nil } }
    #expect(changes == [
      ControlChange(action: .learningRate, epoch: 1, batch: 2, learningRate: 0.0125, previousLearningRate: 0.003)
    ])
    let epochs = recorder.events.compactMap { if case .epoch(let summary) = $0 { summary } else { nil } }
    #expect(epochs.map(\.learningRate) == [0.0125, 0.0125])
    #expect(session.optimizer.learningRate == 0.0125)
    let line = TrainingEvent.control(changes[0]).jsonLine
    #expect(line == #"{"event":"control","action":"learning_rate","batch":2,"epoch":1,"learning_rate":0.0125,"previous_learning_rate":0.003}"#)
    #expect(try TrainingEvent(jsonLine: line) == .control(changes[0]))
  }

  /// A pause is reported when it takes effect, and no step runs until the resume.
  @Test func aPauseHoldsTheRunBetweenSteps() throws {
    let session = try TrainingSession(
      configuration: Fixtures.configuration(epochs: 1), training: Fixtures.training, test: Fixtures.test)
    let recorder = Recorder()
    recorder.onBatch = { progress in
      if progress.batch == 3 {
        let control = session.control
        control.pause()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { control.resume() }
      }
    }
    let start = ContinuousClock.now
    try session.run(observers: [recorder])
    #expect(ContinuousClock.now - start >= .milliseconds(300))
    let trace = recorder.events.compactMap { event -> String? in
      switch event {
      case .batch(let progress): return "b\(progress.batch)"
      case .control(let change): return "\(change.action.rawValue)@\(change.batch)"
      default: return nil
      }
    }
    #expect(trace == ["b1", "b2", "b3", "paused@3", "resumed@3", "b4", "b5", "b6"])
  }

  /// A drawing sent while the run steps is answered by the training thread between steps.
  @Test func aDrawingIsAnsweredWhileTraining() async throws {
    let session = try TrainingSession(
      configuration: Fixtures.configuration(epochs: 1), training: Fixtures.training, test: Fixtures.test)
    let dashboard = LiveDashboard(session: session, checkpoint: nil)
    let observer = try #require(dashboard.observer)
    let answered = Box()
    let recorder = Recorder()
    recorder.onBatch = { progress in
      guard progress.batch == 1 else { return }
      Task {
        let result = await observer.predict(pixels: [Float](repeating: 0.2, count: 144))
        answered.set(result.probabilities.count)
      }
      // Hold the training thread a little so the request is queued before the next step.
      Thread.sleep(forTimeInterval: 0.2)
    }
    try session.run(observers: [recorder, observer])
    for _ in 0..<200 where answered.value == nil { try await Task.sleep(for: .milliseconds(10)) }
    #expect(answered.value == 10)
  }
}

final class Box: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Int?
  var value: Int? { lock.withLock { stored } }
  func set(_ value: Int) { lock.withLock { stored = value } }
}

/// What `cnn train --json` would print.
final class JSONLinesRecorder: TrainingObserver {
  var lines: [String] = []
  func receive(_ event: TrainingEvent) { lines.append(event.jsonLine) }
}
