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
/// keys sorted). Batch events are thinned to about 20 per epoch.
public final class JSONLinesObserver: TrainingObserver {
  private let write: (String) -> Void

  public init(write: @escaping (String) -> Void = Console.out) { self.write = write }

  public func receive(_ event: TrainingEvent) {
    if case .batch(let progress) = event {
      let every = max(1, progress.batchesPerEpoch / 20)
      guard progress.batch % every == 0 || progress.batch == progress.batchesPerEpoch else { return }
    }
    write(event.jsonLine + "\n")
  }
}

/// The human view of a run: a header, a live progress bar on standard error (batches, loss,
/// images/s, ETA), one line per epoch on standard output, then either a "Finished" line or,
/// when `TrainingHealth` stopped the run, the reason and its hint on standard error.
public final class ProgressBar: TrainingObserver {
  private let live: Bool
  private let width = 24
  private var lastDraw: ContinuousClock.Instant?

  private let out: (String) -> Void

  /// - Parameters:
  ///   - live: Whether to redraw a bar after each batch; by default, when standard error is a
  ///     terminal.
  ///   - out: Where the notes, the header and the epoch lines go; standard output by default.
  public init(live: Bool = Console.errorIsTerminal, out: @escaping (String) -> Void = Console.out) {
    self.live = live
    self.out = out
  }

  public func receive(_ event: TrainingEvent) {
    switch event {
    case .started(let start):
      for note in start.notes { out(note + "\n") }
      out(
        "Training \(start.model) (\(start.parameterCount.grouped) parameters) on \(start.trainingSamples.grouped) images, "
          + "testing on \(start.testSamples.grouped); \(start.epochs) epochs of \(start.batchesPerEpoch) batches of "
          + "\(start.batchSize), \(start.optimizer) lr \(start.learningRate), schedule \(start.schedule), "
          + "augmentation \(start.augmentation)\n")
    case .batch(let progress):
      guard live else { return }
      let now = ContinuousClock.now
      if let lastDraw, now - lastDraw < .milliseconds(100), progress.batch < progress.batchesPerEpoch { return }
      lastDraw = now
      let done = Double(progress.batch) / Double(max(1, progress.batchesPerEpoch))
      let filled = Int(done * Double(width))
      let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      let remaining = progress.elapsed / max(done, 1e-9) - progress.elapsed
      Console.error(
        "\r\u{1B}[2Kepoch \(progress.epoch) \(bar) \(progress.batch)/\(progress.batchesPerEpoch)"
          + "  loss \(progress.runningLoss.formatted(4))  \(Int(progress.imagesPerSecond).grouped) img/s"
          + "  ETA \(remaining.formatted(1))s")
    case .epoch(let summary):
      if live { Console.error("\r\u{1B}[2K") }
      var line = "epoch \(summary.epoch)  train loss \(summary.trainLoss.formatted(4))"
        + "  train acc \((summary.trainAccuracy * 100).formatted(2))%"
      if let accuracy = summary.testAccuracy { line += "  test acc \((accuracy * 100).formatted(2))%" }
      line += "  lr \(summary.learningRate.formatted(6))"
      line += "  \(summary.seconds.formatted(2))s  \(Int(summary.imagesPerSecond).grouped) img/s\n"
      out(line)
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
      out(line + "\n")    case .control(let change):
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
