#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes text straight to standard output or standard error (file descriptors 1 and 2),
/// unbuffered, so lines appear at once and interleave correctly.
public enum Console {
  /// Writes `text` to standard output.
  public static func out(_ text: String) { send(text, to: 1) }

  /// Writes `text` to standard error.
  public static func error(_ text: String) { send(text, to: 2) }

  private static func send(_ text: String, to descriptor: Int32) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { buffer in
      var offset = 0
      while offset < buffer.count, let base = buffer.baseAddress {
        let written = write(descriptor, base + offset, buffer.count - offset)
        if written <= 0 {
          if written < 0 && errno == EINTR { continue }
          if written < 0 { recordFailure(errno, descriptor: descriptor) }
          return
        }
        offset += written
      }
    }
  }

  /// Whether standard error is a terminal (so a live progress bar can redraw itself).
  public static var errorIsTerminal: Bool { isatty(2) != 0 }
}

/// Writes every event as one JSON object per line on standard output (`cnn train --json`),
/// encoded by Foundation's `JSONEncoder` (``TrainingEvent/jsonLine``: `event` first, the other
/// keys sorted). Batch events are thinned to about 20 per epoch, always with the run's first
/// step, so a reader sees the run start at once.
public final class JSONLinesObserver: TrainingObserver {
  private let write: (String) -> Void
  private var firstBatchSeen = false

  public init(write: @escaping (String) -> Void = Console.out) { self.write = write }

  public func receive(_ event: TrainingEvent) {
    if case .batch(let progress) = event {
      let every = max(1, progress.batchesPerEpoch / 20)
      let first = !firstBatchSeen
      firstBatchSeen = true
      guard first || progress.batch % every == 0 || progress.batch == progress.batchesPerEpoch else { return }
    }
    write(event.jsonLine + "\n")
  }
}

/// The human view of a run: a header, a live progress bar on standard error (batches, loss,
/// images/s, ETA), one line per epoch on standard output, then either a "Finished" line or,
/// when `TrainingHealth` stopped the run, the reason and its hint on standard error.
///
/// When standard error is not a terminal (output piped or redirected) there is no bar to
/// redraw: progress lines go to standard output instead, `epoch 1  batch 1/40  loss 2.3026
/// 812 img/s`, for the run's first step and then every ``batchLineInterval`` batches.
public final class ProgressBar: TrainingObserver {
  private let live: Bool
  private let width = 24
  private var lastDraw: ContinuousClock.Instant?
  private var lastLine: ContinuousClock.Instant?
  private var firstBatchSeen = false

  private let out: (String) -> Void

  /// How often a progress line is printed when not ``live``.
  public enum BatchLineInterval: Sendable, Equatable {
    /// Every this many batches of an epoch (0: never; only the first step and the epochs).
    case batches(Int)
    /// About every tenth of an epoch, but only when at least 5 seconds have passed since the
    /// last line, so that a quick run prints its first step and its epochs, and a slow one a
    /// line every few seconds.
    case automatic
  }

  /// Progress lines when not ``live``.
  public let batchLineInterval: BatchLineInterval

  /// - Parameters:
  ///   - live: Whether to redraw a bar after each batch; by default, when standard error is a
  ///     terminal.
  ///   - batchLines: When not live, how often to print a progress line.
  ///   - out: Where the notes, the header and the epoch lines go; standard output by default.
  public init(
    live: Bool = Console.errorIsTerminal, batchLines: BatchLineInterval = .automatic,
    out: @escaping (String) -> Void = Console.out
  ) {
    self.live = live
    self.batchLineInterval = batchLines
    self.out = out
  }

  /// The run's first lines: what is trained on what, and every setting of the loop and the
  /// optimizer (`1 epoch`, `3 epochs`).
  public static func header(_ start: TrainingStart) -> String {
    var first = "Training \(start.model) (\(start.parameterCount.grouped) parameters) on "
    if let dataset = start.dataset { first += "\(dataset): " }
    first += "\(start.trainingSamples.grouped) training images, \(start.testSamples.grouped) test images"
    let epochs = start.epochs == 1 ? "1 epoch" : "\(start.epochs.grouped) epochs"
    let batches = start.batchesPerEpoch == 1 ? "1 batch" : "\(start.batchesPerEpoch.grouped) batches"
    let optimizer = start.optimizerSettings ?? "\(start.optimizer) (lr \(start.learningRate))"
    var second = "\(epochs) of \(batches) of \(start.batchSize.grouped); schedule \(start.schedule)"
    // A schedule (or a resume) may start elsewhere than the optimizer's configured rate.
    if start.schedule != "constant" { second += " (first step at lr \(start.learningRate))" }
    second += "; augmentation \(start.augmentation)"
    if let normalization = start.normalization { second += "; normalization \(normalization)" }
    var text = first + "\n" + second + "\nOptimizer: \(optimizer)\n"
    if let sample = start.evaluationSample {
      let test = min(sample, start.testSamples), training = min(sample, start.trainingSamples)
      text += "Each epoch is evaluated on a fixed sample: the first \(test.grouped) test and \(training.grouped) "
        + "training images.\n"
    }
    return text
  }

  public func receive(_ event: TrainingEvent) {
    switch event {
    case .started(let start):
      for note in start.notes { out(note + "\n") }
      out(Self.header(start))
      lastLine = ContinuousClock.now
    case .batch(let progress):
      guard live else {
        if shouldPrintLine(progress) {
          out(
            "epoch \(progress.epoch)  batch \(progress.batch)/\(progress.batchesPerEpoch)"
              + "  loss \(progress.runningLoss.formatted(4))  \(Int(progress.imagesPerSecond).grouped) img/s\n")
          lastLine = ContinuousClock.now
        }
        return
      }
    case .epoch(let summary):
      if live { Console.error("\r\u{1B}[2K") }
      var line = "epoch \(summary.epoch)  train loss \(summary.trainLoss.formatted(4))"
        + "  train acc \((summary.trainAccuracy * 100).formatted(2))%"
      if let accuracy = summary.sampleTrainAccuracy { line += " (sample \((accuracy * 100).formatted(2))%)" }
      if let accuracy = summary.testAccuracy { line += "  test acc \((accuracy * 100).formatted(2))%" }
      line += "  lr \(summary.learningRate.formatted(6))"
      line += "  \(summary.seconds.formatted(2))s  \(Int(summary.imagesPerSecond).grouped) img/s\n"
      out(line)
      lastLine = ContinuousClock.now
    case .finished(let result):
      // A stopped run did not finish, even when it stopped in its last epoch: it ends with the
      // reason and the hint on standard error, as other failing commands do, and nothing else.
      if let stop = result.stop {
        if live { Console.error("\r\u{1B}[2K") }
        if case .requested = stop {
          out("Stopped: \(stop)\n")  // asked for, not a failure
        } else {
          Console.error("Error: \(stop)\n")
        }
        return
      }
      var line = "Finished in \(result.totalSeconds.formatted(1))s (training \(result.trainingSeconds.formatted(1))s)"
      if let accuracy = result.finalTestAccuracy { line += "; test accuracy \((accuracy * 100).formatted(2))%" }
      out(line + "\n")
    case .control(let change):
      if live { Console.error("\r\u{1B}[2K") }
      switch change.action {
      case .paused: out("Paused at epoch \(change.epoch), step \(change.batch)\n")
      case .resumed: out("Resumed at epoch \(change.epoch), step \(change.batch)\n")
      case .learningRate:
        out("Learning rate set to \(change.learningRate ?? 0) at epoch \(change.epoch), step \(change.batch)\n")
      }
    }
  }
}

extension ProgressBar {
  /// Whether a progress line is due after `progress` (not live): the run's first step, then
  /// per ``batchLineInterval``; never the epoch's last batch, which its epoch line follows.
  private func shouldPrintLine(_ progress: BatchProgress) -> Bool {
    defer { firstBatchSeen = true }
    if !firstBatchSeen { return true }
    guard progress.batch < progress.batchesPerEpoch else { return false }
    switch batchLineInterval {
    case .batches(let every):
      return every > 0 && progress.batch % every == 0
    case .automatic:
      let every = max(1, progress.batchesPerEpoch / 10)
      guard progress.batch % every == 0 else { return false }
      return lastLine.map { ContinuousClock.now - $0 >= .seconds(5) } ?? true
    }
  }
}

extension BinaryFloatingPoint {
  /// The value with `digits` digits after the point: `0.1235`.
  public func formatted(_ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let value = (Double(self) * scale).rounded() / scale
    // Beyond 2⁵³ the digits after the point are gone anyway, and `Int` could not hold them.
    guard value.isFinite, abs(value) * scale < 9e15 else { return "\(value)" }
    let negative = value < 0
    let scaled = Int((abs(value) * scale).rounded())
    let whole = scaled / Int(scale)
    let fraction = String(scaled % Int(scale))
    let padded = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
    return (negative ? "-" : "") + String(whole) + (digits > 0 ? "." + padded : "")
  }
}

extension Int {
  /// `433890` as `433,890`.
  public var grouped: String {
    let digits = String(abs(self))
    var result = ""
    for (index, character) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
      result.append(character)
    }
    return (self < 0 ? "-" : "") + result
  }
}
