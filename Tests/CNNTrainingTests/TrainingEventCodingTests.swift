import Foundation
import CNNTensor
import Testing

@testable import CNNTraining

/// One value of each event kind, with durations already at the log's precision (milliseconds,
/// whole images per second) so that they survive a round trip exactly.
private enum Examples {
  static let start = TrainingStart(
    model: "lenet5", parameterCount: 61_706, trainingSamples: 60_000, testSamples: 10_000, epochs: 5, batchSize: 100,
    batchesPerEpoch: 600, optimizer: "Adam", learningRate: 0.001, seed: 18_446_744_073_709_551_615,
    augmentation: "crop=2", schedule: "cosine=5,min=0.0",
    notes: ["resumed at epoch 3 of 5; cosine schedule re-planned to end at epoch 5"], dataset: "fashion-mnist")
  static let progress = BatchProgress(
    epoch: 1, batch: 20, batchesPerEpoch: 600, loss: 0.41, runningLoss: 0.73, imagesPerSecond: 5210, elapsed: 0.384)
  static let summary = EpochSummary(
    epoch: 3, trainLoss: 0.125, trainAccuracy: 0.96, testLoss: 0.25, testAccuracy: 0.965, seconds: 1.235,
    evaluationSeconds: 0.1, imagesPerSecond: 12_346, learningRate: 0.00075)
  static let untested = EpochSummary(
    epoch: 4, trainLoss: 0.1, trainAccuracy: 0.97, testLoss: nil, testAccuracy: nil, seconds: 1.2,
    evaluationSeconds: 0, imagesPerSecond: 12_000, learningRate: 0.0005)
  static let result = TrainingResult(
    epochs: [summary, untested], trainingSeconds: 2.435, totalSeconds: 2.6, stop: nil)
  static let diverged = TrainingResult(
    epochs: [], trainingSeconds: 0.1, totalSeconds: 0.2,
    stop: .nonFiniteLoss(epoch: 1, batch: 2, loss: .infinity))
  static let stuck = TrainingResult(
    epochs: [untested], trainingSeconds: 1.2, totalSeconds: 1.3,
    stop: .stuckAtChance(epochs: 3, accuracy: 0.25, chance: 0.25))
  static let all: [TrainingEvent] = [
    .started(start), .started(TrainingStart(
      model: "m", parameterCount: 1, trainingSamples: 2, testSamples: 0, epochs: 1, batchSize: 2, batchesPerEpoch: 1,
      optimizer: "SGD", learningRate: 0.1, seed: nil)),
    .batch(progress), .epoch(summary), .epoch(untested), .finished(result), .finished(diverged), .finished(stuck),
    .finished(TrainingResult(
      epochs: [], trainingSeconds: 0, totalSeconds: 0,
      stop: .nonFiniteLoss(epoch: 2, batch: nil, loss: -.infinity))),
  ]
}

@Suite struct TrainingEventCodingTests {
  @Test func epochLineHasEventFirstThenSortedSnakeCaseKeys() {
    let summary = EpochSummary(
      epoch: 3, trainLoss: 0.125, trainAccuracy: 0.96, testLoss: 0.25, testAccuracy: 0.965, seconds: 1.23456,
      evaluationSeconds: 0.1, imagesPerSecond: 12_345.6, learningRate: 0.00075)
    #expect(
      TrainingEvent.epoch(summary).jsonLine
        == #"{"event":"epoch","epoch":3,"evaluation_seconds":0.1,"images_per_second":12346,"learning_rate":0.00075,"#
        + #""seconds":1.235,"test_accuracy":0.965,"test_loss":0.25,"train_accuracy":0.96,"train_loss":0.125}"#)
  }

  @Test func everyKindHasItsDocumentedLine() {
    #expect(
      TrainingEvent.started(Examples.start).jsonLine
        == #"{"event":"started","augmentation":"crop=2","batch_size":100,"batches_per_epoch":600,"#
        + #""dataset":"fashion-mnist","epochs":5,"learning_rate":0.001,"model":"lenet5","#
        + #""notes":["resumed at epoch 3 of 5; cosine schedule re-planned to end at epoch 5"],"optimizer":"Adam","#
        + #""parameters":61706,"schedule":"cosine=5,min=0.0","seed":18446744073709551615,"test_samples":10000,"#
        + #""train_samples":60000}"#)
    #expect(
      TrainingEvent.batch(Examples.progress).jsonLine
        == #"{"event":"batch","batch":20,"batches":600,"epoch":1,"images_per_second":5210,"loss":0.41,"#
        + #""running_loss":0.73,"seconds":0.384}"#)
    #expect(
      TrainingEvent.epoch(Examples.untested).jsonLine
        == #"{"event":"epoch","epoch":4,"evaluation_seconds":0,"images_per_second":12000,"learning_rate":0.0005,"#
        + #""seconds":1.2,"test_accuracy":null,"test_loss":null,"train_accuracy":0.97,"train_loss":0.1}"#)
    #expect(
      TrainingEvent.finished(TrainingResult(epochs: [Examples.untested], trainingSeconds: 1.2, totalSeconds: 1.3))
        .jsonLine
        == #"{"event":"finished","epochs":1,"history":[{"epoch":4,"evaluation_seconds":0,"images_per_second":12000,"#
        + #""learning_rate":0.0005,"seconds":1.2,"test_accuracy":null,"test_loss":null,"train_accuracy":0.97,"#
        + #""train_loss":0.1}],"test_acc_list":[],"test_accuracy":null,"total_seconds":1.3,"train_acc_list":[0.97],"#
        + #""training_seconds":1.2}"#)
    let diverged = TrainingEvent.finished(Examples.diverged).jsonLine
    #expect(diverged.hasPrefix(#"{"event":"finished","epochs":0,"hint":"lower the learning rate"#))
    #expect(diverged.contains(#""loss":"Infinity","message":"the loss became inf at batch 2 of epoch 1"#))
    #expect(diverged.contains(#""stop_batch":2,"stop_epoch":1,"stopped":"non_finite_loss""#))
    let stuck = TrainingEvent.finished(Examples.stuck).jsonLine
    #expect(stuck.contains(#""accuracy":0.25,"chance":0.25,"epochs":1,"epochs_at_chance":3,"#))
    #expect(stuck.contains(#""stopped":"stuck_at_chance""#))
  }

  @Test func everyKindDecodesBackEqual() throws {
    for event in Examples.all {
      let line = event.jsonLine
      #expect(try TrainingEvent(jsonLine: line) == event, "\(line)")
      // Through the plain Codable conformance too, whatever the key order.
      let data = try JSONLines.encoder().encode(event)
      #expect(try JSONLines.decoder().decode(TrainingEvent.self, from: data) == event)
    }
  }

  @Test func theLineIsTheSameEveryTime() {
    // Foundation's encoder does not keep insertion order on Linux; sorting makes lines stable.
    let lines = Set((0..<20).map { _ in TrainingEvent.started(Examples.start).jsonLine })
    #expect(lines.count == 1)
  }

  /// Lines as CNNKit wrote them before the events were `Codable`: the seed a string, no
  /// learning rate per epoch, no running loss, and numbers such as `12346.0`.
  @Test func linesInTheOldFormatDecode() throws {
    let started = try TrainingEvent(
      jsonLine:
        #"{"event":"started","model":"lenet5","parameters":61706,"train_samples":60000,"test_samples":10000,"#
        + #""epochs":5,"batch_size":100,"batches_per_epoch":600,"optimizer":"Adam","learning_rate":0.001,"#
        + #""seed":"42","augmentation":"none","schedule":"constant"}"#)
    #expect(
      started
        == .started(TrainingStart(
          model: "lenet5", parameterCount: 61_706, trainingSamples: 60_000, testSamples: 10_000, epochs: 5,
          batchSize: 100, batchesPerEpoch: 600, optimizer: "Adam", learningRate: 0.001, seed: 42)))
    let epoch = try TrainingEvent(
      jsonLine:
        #"{"event":"epoch","epoch":3,"train_loss":0.125,"train_accuracy":0.96,"test_loss":0.25,"#
        + #""test_accuracy":0.965,"seconds":1.235,"evaluation_seconds":0.1,"images_per_second":12346.0}"#)
    var summary = Examples.summary
    summary.learningRate = 0
    #expect(epoch == .epoch(summary))
    let batch = try TrainingEvent(
      jsonLine: #"{"event":"batch","epoch":1,"batch":20,"batches":600,"loss":0.41,"images_per_second":5210.0}"#)
    #expect(
      batch
        == .batch(BatchProgress(
          epoch: 1, batch: 20, batchesPerEpoch: 600, loss: 0.41, runningLoss: 0.41, imagesPerSecond: 5210, elapsed: 0)))
    let nullSeed = try TrainingEvent(jsonLine: #"{"event":"started","model":"m","parameters":1,"train_samples":2,"test_samples":0,"epochs":1,"batch_size":2,"batches_per_epoch":1,"optimizer":"SGD","learning_rate":0.1,"seed":null}"#)
    guard case .started(let start) = nullSeed else { throw CocoaError(.coderInvalidValue) }
    #expect(start.seed == nil && start.augmentation == "none" && start.notes.isEmpty && start.dataset == nil)
  }

  @Test func badLinesSayWhatIsWrong() {
    func problem(_ line: String) -> String {
      do {
        _ = try TrainingEvent(jsonLine: line)
        return "decoded"
      } catch {
        return JSONLines.summary(of: error)
      }
    }
    #expect(problem(#"{"event":"epoch","epoch":1}"#).contains("no \"train_loss\""))
    #expect(problem(#"{"event":"lap"}"#).contains("unknown event \"lap\""))
    #expect(problem(#"{"event":"started","seed":"forty-two"}"#).contains("no \"model\""))
    #expect(problem("epoch 1 loss 0.3") == "not valid JSON")
    #expect(problem(#"{"event":"epoch","epoch":"one"}"#) == #""epoch" is not a number"#)
  }

  @Test func stringsAreEscapedSlashesAreNotAndNaNIsAString() throws {
    var start = Examples.start
    start.model = "a \"quoted\"\nname/with\u{1}slash"
    let line = TrainingEvent.started(start).jsonLine
    #expect(line.contains(#""model":"a \"quoted\"\nname/with\u0001slash""#))
    #expect(!line.contains("\n"))
    var summary = Examples.untested
    summary.trainLoss = .nan
    #expect(TrainingEvent.epoch(summary).jsonLine.contains(#""train_loss":"NaN""#))
    guard case .epoch(let decoded) = try TrainingEvent(jsonLine: TrainingEvent.epoch(summary).jsonLine) else {
      throw CocoaError(.coderInvalidValue)
    }
    #expect(decoded.trainLoss.isNaN)
  }

  @Test func observerWritesOneLinePerEventAndThinsBatches() throws {
    var lines: [String] = []
    let observer = JSONLinesObserver(write: { lines.append($0) })
    observer.receive(.started(Examples.start))
    for batch in 1...600 {
      var progress = Examples.progress
      progress.batch = batch
      observer.receive(.batch(progress))
    }
    observer.receive(.epoch(Examples.summary))
    observer.receive(.finished(Examples.result))
    #expect(lines.count == 1 + 1 + 20 + 1 + 1)  // the first step, then every 30th of 600 batches
    #expect(lines[1].contains(#""batch":1,"#), "the run's first step is written at once: \(lines[1])")
    #expect(lines.allSatisfy { $0.hasPrefix("{\"event\":\"") && $0.hasSuffix("}\n") && !$0.dropLast().contains("\n") })
    #expect(try lines.map { try TrainingEvent(jsonLine: $0) }.last == .finished(Examples.result))
  }

  @Test func progressBarPrintsNotesFirstAndTheLearningRate() {
    var text = ""
    let bar = ProgressBar(live: false, out: { text += $0 })
    bar.receive(.started(Examples.start))
    bar.receive(.epoch(Examples.summary))
    let lines = text.split(separator: "\n")
    #expect(lines.count == 5, "\(text)")  // the note, three header lines, the epoch
    #expect(lines.first == "resumed at epoch 3 of 5; cosine schedule re-planned to end at epoch 5")
    #expect(lines.dropFirst().first?.hasPrefix("Training lenet5") == true)
    #expect(lines.last?.contains("test acc 96.50%  lr 0.000750  1.24s") == true, "\(lines.last ?? "")")
  }

  /// The header names the data, the normalization and the optimizer with every setting;
  /// one epoch is "1 epoch".
  @Test func progressBarHeaderNamesEverySetting() {
    var start = Examples.start
    start.epochs = 1
    start.optimizerSettings = "SGD with Nesterov momentum 0.9 (lr 0.01, weight decay 0.0005, no clipping)"
    start.normalization = "none"
    start.evaluationSample = 1000
    let header = ProgressBar.header(start)
    #expect(header.hasPrefix("Training lenet5 (61,706 parameters) on fashion-mnist: 60,000 training images, 10,000 test images\n"))
    #expect(
      header.contains(
        "\n1 epoch of 600 batches of 100; schedule cosine=5,min=0.0 (first step at lr 0.001); augmentation crop=2; "
          + "normalization none\n"))
    #expect(header.contains("\nOptimizer: SGD with Nesterov momentum 0.9 (lr 0.01, weight decay 0.0005, no clipping)\n"))
    #expect(header.contains("the first 1,000 test and 1,000 training images"))
    start.epochs = 2
    start.optimizerSettings = nil
    #expect(ProgressBar.header(start).contains("\n2 epochs of 600 batches"))
    #expect(ProgressBar.header(start).contains("Optimizer: Adam (lr 0.001)"))
  }

  /// Without a terminal, progress lines go to the output from the first step, then every N batches.
  @Test func progressBarPrintsBatchLinesWhenNotLive() {
    var text = ""
    let bar = ProgressBar(live: false, batchLines: .batches(200), out: { text += $0 })
    bar.receive(.started(Examples.start))
    for epoch in 1...2 {
      for batch in 1...600 {
        var progress = Examples.progress
        progress.epoch = epoch
        progress.batch = batch
        bar.receive(.batch(progress))
      }
    }
    let lines = text.split(separator: "\n").filter { $0.contains("  batch ") }
    #expect(
      lines.map { String($0.prefix(while: { $0 != "l" })) } == [
        "epoch 1  batch 1/600  ", "epoch 1  batch 200/600  ", "epoch 1  batch 400/600  ", "epoch 2  batch 200/600  ",
        "epoch 2  batch 400/600  ",
      ], "\(text)")
    #expect(lines.first?.hasSuffix("loss 0.7300  5,210 img/s") == true, "\(text)")
  }

  /// The new keys of `started`, `epoch` and `finished` round-trip, and the seeds' lists are
  /// the sample's training accuracy where measured.
  @Test func evaluationSampleKeysRoundTrip() throws {
    var start = Examples.start
    start.optimizerSettings = "AdamW (lr 0.001, decoupled weight decay 0.01, no clipping)"
    start.normalization = "per-channel mean 0.1307, std 0.3081"
    start.evaluationSample = 1000
    let line = TrainingEvent.started(start).jsonLine
    #expect(line.contains(#""eval_sample":1000"#) && line.contains(#""optimizer_settings":"AdamW (lr 0.001"#))
    #expect(try TrainingEvent(jsonLine: line) == .started(start))
    var summary = Examples.summary
    summary.sampleTrainAccuracy = 0.98
    summary.testImages = 1000
    let epoch = TrainingEvent.epoch(summary).jsonLine
    #expect(epoch.contains(#""sample_train_accuracy":0.98"#) && epoch.contains(#""test_images":1000"#))
    #expect(try TrainingEvent(jsonLine: epoch) == .epoch(summary))
    let result = TrainingResult(epochs: [summary, Examples.untested], trainingSeconds: 1, totalSeconds: 2)
    #expect(result.trainAccuracies == [0.98, 0.97])
    #expect(result.testAccuracies == [0.965])
    let finished = TrainingEvent.finished(result).jsonLine
    #expect(finished.contains(#""test_acc_list":[0.965]"#) && finished.contains(#""train_acc_list":[0.98,0.97]"#))
  }

  @Test func classificationReportRoundTripsAndReadsTheOldKey() throws {
    var report = ClassificationReport(classNames: (0..<6).map { "c\($0)" })
    let logits = Tensor(shape: [3, 6], scalars: [5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 5, 1, 9, 2, 3, 4, 8])
    report.add(logits: logits, labels: [0, 0, 5])
    let json = report.json
    #expect(json.hasPrefix(#"{"event":"evaluation","accuracy":0.33333334,"class_names":["c0","c1","c2","c3","c4","c5"],"#))
    #expect(json.contains(#""matrix":[[1,0,0,0,0,1],[0,0,0,0,0,0],"#))
    #expect(json.contains(#""per_class_accuracy":[0.5,null,null,null,null,0],"#))
    #expect(json.contains(#""top5_accuracy":0.6666667,"top5_correct":2"#))
    let decoded = try JSONLines.decoder().decode(ClassificationReport.self, from: Data(json.utf8))
    #expect(decoded == report)
    #expect(decoded.text == report.text)
    // As `cnn evaluate --json` wrote it before: the matrix under "confusion", no counts.
    let old =
      #"{"event":"evaluation","count":3,"loss":3.1,"accuracy":0.33333334,"top5_accuracy":0.6666667,"#
      + #""class_names":["c0","c1","c2","c3","c4","c5"],"per_class_accuracy":[0.5,null,null,null,null,0],"#
      + #""confusion":[[1,0,0,0,0,1],[0,0,0,0,0,0],[0,0,0,0,0,0],[0,0,0,0,0,0],[0,0,0,0,0,0],[0,1,0,0,0,0]]}"#
    let oldReport = try JSONLines.decoder().decode(ClassificationReport.self, from: Data(old.utf8))
    #expect(oldReport.confusion == report.confusion && oldReport.correct == 1 && oldReport.topKCorrect == 2)
    #expect(throws: DecodingError.self) {
      try JSONLines.decoder().decode(
        ClassificationReport.self, from: Data(#"{"loss":1,"class_names":["a","b"],"matrix":[[1]]}"#.utf8))
    }
  }
}
