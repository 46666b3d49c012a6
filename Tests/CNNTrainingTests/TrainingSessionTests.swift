import CNNData
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import Foundation
import Testing

@testable import CNNTraining

/// Collects events, and can ask its session to stop at the end of an epoch.
private final class SessionRecorder: TrainingObserver {
  var events: [TrainingEvent] = []
  var stopAfterEpoch: Int?
  weak var control: TrainingControl?

  func receive(_ event: TrainingEvent) {
    events.append(event)
    if case .epoch(let summary) = event, summary.epoch == stopAfterEpoch { control?.requestStop(atEpochEnd: true) }
  }

  var start: TrainingStart? {
    events.lazy.compactMap { if case .started(let start) = $0 { start } else { nil } }.first
  }

  var epochs: [EpochSummary] { events.compactMap { if case .epoch(let summary) = $0 { summary } else { nil } } }
}

@Suite struct TrainingSessionTests {
  static let classNames = (0..<10).map(String.init)

  static func images(count: Int, seed: UInt64, classNames: [String] = classNames) -> Dataset {
    var g = SeededGenerator(seed: seed)
    let pixels = (0..<(count * 144)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    let labels = (0..<count).map { _ in Int(g.next() % UInt64(classNames.count)) }
    return Dataset(images: pixels, labels: labels, channels: 1, height: 12, width: 12, classNames: classNames)
  }

  static let training = images(count: 40, seed: 5)
  static let test = images(count: 10, seed: 6)

  /// DeepConvNet has dropout, so a resume must restore its generators too; Adam has moments.
  static func configuration(schedule: String, epochs: Int = 3) throws -> RunConfiguration {
    RunConfiguration(
      model: .deepConvNet, dataset: DatasetSpecification(kind: .folder, directory: "random-images"),
      inputShape: [1, 12, 12], classNames: classNames, augmentation: .init([.crop(padding: 1)]),
      schedule: try ScheduleSpecification(parsing: schedule),
      optimizer: OptimizerSettings(kind: .adam, learningRate: 0.003, weightDecay: 1e-4, clipNorm: 5), epochs: epochs,
      batchSize: 8, seed: 11, threads: 1, stopAtChance: 0)
  }

  /// The checkpoint's bytes, as `write(to:)` writes them.
  static func bytes(_ checkpoint: Checkpoint) -> [UInt8] {
    SafeTensors.encode(checkpoint.allTensors, metadata: checkpoint.metadata)
  }

  /// Whether two checkpoints are the same bytes. (A Bool, not `#expect(a == b)` on the byte
  /// arrays: a failed expectation would diff two 100 KB arrays element by element.)
  static func same(_ a: Checkpoint, _ b: Checkpoint) -> Bool { bytes(a) == bytes(b) }

  static func trained(_ configuration: RunConfiguration) throws -> Checkpoint {
    let session = try TrainingSession(configuration: configuration, training: training, test: test)
    try session.run()
    return session.checkpoint()
  }

  static let schedules = [
    "constant", "step=1,gamma=0.5", "exponential=0.7", "cosine", "cosine,warmup=1", "plateau,patience=0,factor=0.5",
  ]

  /// A run planned for 3 epochs, stopped after 2 and resumed from its file alone, ends with
  /// the same checkpoint, byte for byte, as 3 epochs in one go: for every kind of schedule.
  @Test(arguments: schedules)
  func interruptedRunResumesExactly(schedule: String) throws {
    let configuration = try Self.configuration(schedule: schedule)
    let straight = try Self.trained(configuration)

    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("run.safetensors")
    let first = try TrainingSession(configuration: configuration, training: Self.training, test: Self.test)
    first.checkpointURL = url
    let recorder = SessionRecorder()
    recorder.stopAfterEpoch = 2
    recorder.control = first.control
    let stopped = try first.run(observers: [recorder])
    #expect(stopped.stop == .requested(epoch: 2, batch: nil))
    #expect(first.epochsCompleted == 2)

    let saved = try Checkpoint.load(from: url)
    let differs = !Self.same(saved, straight)
    #expect(differs)
    let resumed = try TrainingSession(resuming: saved, training: Self.training, test: Self.test, source: "run")
    #expect(resumed.notes == ["Resuming run after epoch 2, up to epoch 3."])
    let observer = SessionRecorder()
    try resumed.run(observers: [observer])
    #expect(observer.epochs.map(\.epoch) == [3])
    let identical = Self.same(resumed.checkpoint(), straight)
    #expect(identical, "\(schedule)")
  }

  /// The default recipe (simple-convnet: He, 2-pixel shifts, cosine over the run) resumes exactly too.
  @Test func defaultRecipeResumesExactly() throws {
    var configuration = RunConfiguration.recipe(
      for: .simpleConvNet, dataset: .mnistSample, training: Self.training)
    configuration.epochs = 3
    configuration.threads = 1
    let straight = try Self.trained(configuration)
    let first = try TrainingSession(configuration: configuration, training: Self.training, test: Self.test)
    let recorder = SessionRecorder()
    recorder.stopAfterEpoch = 2
    recorder.control = first.control
    try first.run(observers: [recorder])
    let resumed = try TrainingSession(resuming: first.checkpoint(), training: Self.training, test: Self.test)
    try resumed.run()
    let identical = Self.same(resumed.checkpoint(), straight)
    #expect(identical)
  }

  /// Extending a finished 2-epoch run to 3: a schedule that does not depend on the run's
  /// length gives exactly the straight 3-epoch run; a cosine over the run is re-planned to end
  /// at epoch 3 (it used to stay 2 epochs long and train epoch 3 at rate 0), and says so.
  @Test(arguments: schedules)
  func extendingAFinishedRun(schedule: String) throws {
    let two = try Self.trained(try Self.configuration(schedule: schedule, epochs: 2))
    let extended = try TrainingSession(resuming: two, epochs: 3, training: Self.training, test: Self.test, source: "run")
    let recorder = SessionRecorder()
    try extended.run(observers: [recorder])
    #expect(extended.configuration.epochs == 3)
    let straight = try Self.trained(try Self.configuration(schedule: schedule, epochs: 3))
    let specification = try ScheduleSpecification(parsing: schedule)
    let planned = specification.planned(baseLearningRate: 0.003, epochs: 3)
    if specification.dependsOnRunLength {
      #expect(extended.notes.count == 2 && extended.notes[1].contains("re-planned to end at epoch 3"), "\(extended.notes)")
      // The first step of epoch 3 runs at the 3-epoch curve's rate, which the header reports.
      let expected = planned.learningRate(epoch: 3, batch: 0, batchesPerEpoch: 5)
      #expect(expected > 0)
      #expect(recorder.start?.learningRate == expected)
      #expect(recorder.epochs.last?.learningRate == expected)
      // Epoch 3 changed the weights.
      let changed = extended.checkpoint().tensors.map(\.tensor) != two.tensors.map(\.tensor)
      #expect(changed)
    } else {
      #expect(extended.notes.count == 2 && extended.notes[1].contains("does not depend"), "\(extended.notes)")
      let identical = Self.same(extended.checkpoint(), straight)
      #expect(identical, "\(schedule)")
    }
  }

  /// A checkpoint resumed on other data is refused before anything is trained or written.
  @Test func resumingOnOtherClassesIsRefused() throws {
    let saved = try Self.trained(try Self.configuration(schedule: "constant", epochs: 1))
    let twoClasses = Self.images(count: 20, seed: 7, classNames: ["cat", "dog"])
    #expect {
      _ = try TrainingSession(resuming: saved, epochs: 2, training: twoClasses, test: nil)
    } throws: { error in
      guard case RunError.dataMismatch(let reason) = error else { return false }
      return reason.contains("2 classes") && reason.contains("predicts 10")
    }
  }

  @Test func finishedRunIsNotResumedAgain() throws {
    let saved = try Self.trained(try Self.configuration(schedule: "constant", epochs: 1))
    #expect(throws: RunError.self) { _ = try TrainingSession(resuming: saved, training: Self.training, test: nil) }
    #expect(throws: RunError.self) { _ = try TrainingSession(resuming: saved.weightsOnly, epochs: 3, training: Self.training, test: nil) }
  }

  /// A stop requested from another thread ends the run before its next step.
  @Test func stopRequestedMidEpoch() throws {
    let session = try TrainingSession(
      configuration: try Self.configuration(schedule: "constant"), training: Self.training, test: Self.test)
    final class StopAtFirstBatch: TrainingObserver {
      let control: TrainingControl
      init(_ control: TrainingControl) { self.control = control }
      func receive(_ event: TrainingEvent) { if case .batch = event { control.requestStop() } }
    }
    let result = try session.run(observers: [StopAtFirstBatch(session.control)])
    #expect(result.stop == .requested(epoch: 1, batch: 1))
    #expect(result.epochs.isEmpty && session.epochsCompleted == 0)
  }

  /// A paused run waits until it is resumed from another thread.
  @Test func pauseHoldsTheRunUntilResumed() throws {
    final class Run: @unchecked Sendable {
      let session: TrainingSession
      var epochs = -1
      let finished = DispatchSemaphore(value: 0)
      init(_ session: TrainingSession) { self.session = session }
    }
    let run = Run(try TrainingSession(
      configuration: try Self.configuration(schedule: "constant", epochs: 1), training: Self.training, test: nil))
    run.session.control.pause()
    Thread {
      run.epochs = (try? run.session.run().epochs.count) ?? -2
      run.finished.signal()
    }.start()
    #expect(run.finished.wait(timeout: .now() + 0.5) == .timedOut)
    #expect(run.session.epochsCompleted == 0 && run.session.control.isPaused)
    run.session.control.resume()
    #expect(run.finished.wait(timeout: .now() + 300) == .success)
    #expect(run.epochs == 1)
  }

  @Test func settingsOutOfRangeAreRefusedByName() throws {
    var configuration = try Self.configuration(schedule: "constant")
    configuration.batchSize = 0
    configuration.optimizer.learningRate = .infinity
    #expect {
      _ = try TrainingSession(configuration: configuration, training: Self.training, test: nil)
    } throws: { error in
      "\(error)".contains("batch size must be in 1…65536, got 0") && "\(error)".contains("learning rate")
    }
  }
}
