import CNNData
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
  /// Reads the `epoch` events of a JSON-lines training log (`cnn train --json > run.jsonl`):
  /// `{"event":"epoch","epoch":3,"train_loss":0.12,"train_accuracy":0.96,"test_loss":…,"test_accuracy":0.97,…}`.
  ///
  /// Other events are skipped, except `started`, whose model, optimizer and learning rate
  /// become the subtitle. `null` and the strings `"NaN"`/`"Infinity"` are missing values.
  ///
  /// - Throws: ``TrainingLogError`` for a line that is not a JSON object, or a log without
  ///   epoch events.
  public static func parse(jsonLines text: String, file: String = "<log>") throws -> TrainingCurves {
    var epochs: [Epoch] = []
    var subtitle: String?
    for (index, line) in text.split(whereSeparator: \.isNewline).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      guard
        let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any]
      else {
        throw TrainingLogError(
          file: file, problem: "line \(index + 1) is not a JSON object: \(trimmed.prefix(60))",
          hint: "pass the output of `cnn train --json` (one JSON object per line), not the progress-bar output.")
      }
      switch object["event"] as? String {
      case "started":
        let parts = [
          object["model"] as? String,
          (object["optimizer"] as? String).map { optimizer in
            number(object["learning_rate"]).map { "\(optimizer), learning rate \(shortest($0))" } ?? optimizer
          },
          number(object["batch_size"]).map { "batches of \(Int($0))" },
          number(object["train_samples"]).map { "\(Int($0)) training images" },
        ].compactMap { $0 }
        if !parts.isEmpty { subtitle = parts.joined(separator: " · ") }
      case "epoch":
        guard let epoch = number(object["epoch"]) else { continue }
        epochs.append(
          Epoch(
            epoch: Int(epoch), trainLoss: number(object["train_loss"]),
            trainAccuracy: number(object["train_accuracy"]), testLoss: number(object["test_loss"]),
            testAccuracy: number(object["test_accuracy"])))
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

  /// Reads a JSON-lines training log from a file (see ``parse(jsonLines:file:)``).
  public static func read(from path: String) throws -> TrainingCurves {
    let bytes = try readBytes(path)
    return try parse(jsonLines: String(decoding: bytes, as: UTF8.self), file: path)
  }

  /// A finite JSON number, or `nil` (for `null`, strings and absent keys).
  private static func number(_ value: Any?) -> Double? {
    guard let number = value as? NSNumber else { return nil }
    let double = number.doubleValue
    return double.isFinite ? double : nil
  }

  private static func shortest(_ value: Double) -> String {
    String(Float(value))
  }
}
