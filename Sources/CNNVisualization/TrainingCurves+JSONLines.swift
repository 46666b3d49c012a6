import CNNData
import CNNTraining
import Foundation

/// Why a training log could not be read.
public struct TrainingLogError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The log's name.
  public var file: String
  /// What is wrong.
  public var problem: String
  /// How to fix it.
  public var hint: String

  public var description: String { "\(file): \(problem)\n---> HINT: \(hint)" }
}

extension TrainingCurves {
  /// Reads the `epoch` events of a JSON-lines training log (`cnn train --json > run.jsonl`),
  /// decoding each line as a ``TrainingEvent`` with Foundation's decoder:
  /// `{"event":"epoch","epoch":3,"train_loss":0.12,"train_accuracy":0.96,"test_loss":…,…}`.
  ///
  /// Other events are skipped, except `started`, whose model, optimizer and learning rate
  /// become the subtitle. `null` and the strings `"NaN"`/`"Infinity"` are missing values.
  ///
  /// - Throws: ``TrainingLogError`` for a line that is not a JSON object, a `started` or
  ///   `epoch` line that lacks a key the event needs, or a log without epoch events.
  public static func parse(jsonLines text: String, file: String = "<log>") throws -> TrainingCurves {
    var epochs: [Epoch] = []
    var subtitle: String?
    let decoder = JSONLines.decoder()
    for (index, line) in text.split(whereSeparator: \.isNewline).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      let data = Data(trimmed.utf8)
      guard let header = try? decoder.decode(EventHeader.self, from: data) else {
        throw TrainingLogError(
          file: file, problem: "line \(index + 1) is not a JSON object: \(trimmed.prefix(60))",
          hint: "pass the output of `cnn train --json` (one JSON object per line), not the progress-bar output.")
      }
      guard header.event == "started" || header.event == "epoch" else { continue }
      let event: TrainingEvent
      do {
        event = try decoder.decode(TrainingEvent.self, from: data)
      } catch {
        throw TrainingLogError(
          file: file,
          problem: "line \(index + 1) is not a complete \"\(header.event ?? "")\" event: \(JSONLines.summary(of: error))",
          hint: "pass the output of `cnn train --json` unchanged; each line is one event.")
      }
      switch event {
      case .started(let start):
        subtitle = Self.subtitle(for: start)
      case .epoch(let summary):
        epochs.append(
          Epoch(
            epoch: summary.epoch, trainLoss: decimal(summary.trainLoss),
            trainAccuracy: decimal(summary.sampleTrainAccuracy ?? summary.trainAccuracy),
            testLoss: summary.testLoss.flatMap(decimal), testAccuracy: summary.testAccuracy.flatMap(decimal)))
      default:
        continue
      }
    }
    guard !epochs.isEmpty else {
      throw TrainingLogError(
        file: file, problem: "no \"epoch\" events found",
        hint: "the log must come from `cnn train --json` and cover at least one finished epoch.")
    }
    return TrainingCurves(epochs: epochs, subtitle: subtitle)
  }

  /// The line under the charts' titles for a run, the same for `cnn train --plot` and
  /// `cnn visualize curves`: `mnist-sample · simple-convnet · Adam, learning rate 0.001 ·
  /// batches of 100 · 4000 training images`, and with `--eval-sample N` `· accuracy on the first
  /// N images of each split` (the curves then show the seeds' lists: the training accuracy
  /// measured on that sample after each epoch, not the running one).
  public static func subtitle(for start: TrainingStart) -> String {
    let parts = [
      start.model, "\(start.optimizer), learning rate \(start.learningRate)", "batches of \(start.batchSize)",
      "\(start.trainingSamples) training images",
    ]
    let sample = start.evaluationSample.map { ["accuracy on the first \($0) images of each split"] } ?? []
    return ([start.dataset].compactMap { $0 } + parts + sample).joined(separator: " · ")
  }

  /// Reads a JSON-lines training log from a file (see ``parse(jsonLines:file:)``).
  public static func read(from path: String) throws -> TrainingCurves {
    let bytes = try readBytes(path)
    return try parse(jsonLines: String(decoding: bytes, as: UTF8.self), file: path)
  }

  /// The decimal that the log wrote for `value` (`0.9`, not `0.8999999761581421`), or `nil`
  /// when it is not finite.
  private static func decimal(_ value: Float) -> Double? {
    value.isFinite ? Double(value.description) : nil
  }
}

/// Just the kind of a log line, read before the whole event.
private struct EventHeader: Decodable {
  var event: String?

  private enum CodingKeys: String, CodingKey { case event }

  init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    event = try? container.decodeIfPresent(String.self, forKey: .event)
  }
}
