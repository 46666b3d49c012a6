import Foundation
import Testing

/// The seeds' training loop as `cnn train` runs it: the header names every setting, progress
/// shows from the first step when piped, `--eval-sample` evaluates a fixed sample and
/// survives a resume, the log carries the accuracy lists, and `--plot` titles its curves as
/// `visualize curves` does.
@Suite struct LearnerTrainingTests {
  static let quick = ["--dataset", "folder", "--data-dir", "tiny", "--batch-size", "6", "--threads", "1"]

  static func json(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
  }

  @Test func headerNamesEverySettingAndProgressShowsWhenPiped() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let result = try cnn(
        ["train", "--epochs", "1", "--optimizer", "nesterov", "--weight-decay", "0.0005", "--clip-norm", "1",
         "--normalize", "--progress-every", "2"] + Self.quick, in: directory)
      #expect(result.exitCode == 0, "\(result)")
      let lines = result.stdout.split(separator: "\n").map(String.init)
      #expect(lines.first?.hasPrefix("Training simple-convnet (") == true, "\(result)")
      #expect(lines.first?.contains("/tiny): 54 training images, 6 test images") == true, "\(result)")
      #expect(result.stdout.contains("\n1 epoch of "), "\(result)")
      #expect(!result.stdout.contains("1 epochs"), "\(result)")
      #expect(result.stdout.contains("normalization per-channel mean "), "\(result)")
      #expect(
        result.stdout.contains(
          "Optimizer: SGD with Nesterov momentum 0.9 (lr 0.01, weight decay 0.0005, gradient norm clipped at 1.0)"),
        "\(result)")
      // Piped: a line for the first step, then every 2 batches, before the epoch's line.
      let batchLines = lines.filter { $0.hasPrefix("epoch 1  batch ") }
      #expect(batchLines.first?.hasPrefix("epoch 1  batch 1/") == true, "\(result)")
      #expect(batchLines.dropFirst().first?.hasPrefix("epoch 1  batch 2/") == true, "\(result)")
      let epochLine = try #require(lines.firstIndex { $0.hasPrefix("epoch 1  train loss") }, "\(result)")
      let firstBatch = try #require(lines.firstIndex { $0.hasPrefix("epoch 1  batch 1/") }, "\(result)")
      #expect(firstBatch < epochLine)

      let adamW = try cnn(["train", "--epochs", "2", "--optimizer", "adamw"] + Self.quick, in: directory)
      #expect(adamW.stdout.contains("\n2 epochs of "), "\(adamW)")
      #expect(adamW.stdout.contains("Optimizer: AdamW (lr 0.001, decoupled weight decay 0.01, no clipping)"), "\(adamW)")
      #expect(adamW.stdout.contains("normalization none"), "\(adamW)")
    }
  }

  @Test func evaluationSampleIsRecordedAndKeptOnResume() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let first = try cnn(
        ["train", "--epochs", "2", "--eval-sample", "5", "--checkpoint", "a.safetensors", "--json"] + Self.quick,
        in: directory)
      #expect(first.exitCode == 0, "\(first)")
      let events = Self.json(first.stdout)
      let started = try #require(events.first { $0["event"] as? String == "started" }, "\(first)")
      #expect(started["eval_sample"] as? Int == 5, "\(started)")
      let epochs = events.filter { $0["event"] as? String == "epoch" }
      #expect(epochs.count == 2 && epochs.allSatisfy { $0["test_images"] as? Int == 5 }, "\(first)")
      #expect(epochs.allSatisfy { $0["sample_train_accuracy"] is NSNumber }, "\(first)")
      let finished = try #require(events.last, "\(first)")
      #expect((finished["train_acc_list"] as? [Double])?.count == 2, "\(finished)")
      #expect((finished["test_acc_list"] as? [Double])?.count == 2, "\(finished)")
      // Each test accuracy is a count out of the 5 sampled images.
      for accuracy in finished["test_acc_list"] as? [Double] ?? [] {
        #expect(abs(accuracy * 5 - (accuracy * 5).rounded()) < 1e-4, "\(accuracy)")
      }

      let resumed = try cnn("train", "--resume", "a.safetensors", "--epochs", "3", "--json", in: directory)
      #expect(resumed.exitCode == 0, "\(resumed)")
      let again = Self.json(resumed.stdout)
      #expect(again.first { $0["event"] as? String == "started" }?["eval_sample"] as? Int == 5, "\(resumed)")
      #expect(again.first { $0["event"] as? String == "epoch" }?["test_images"] as? Int == 5, "\(resumed)")

      let refused = try cnn("train", "--resume", "a.safetensors", "--epochs", "4", "--eval-sample", "7", in: directory)
      #expect(refused.exitCode != 0 && refused.stderr.contains("--eval-sample"), "\(refused)")
    }
  }

  @Test func plotAndCurvesShareTheirTitle() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let train = try cnn(["train", "--epochs", "3", "--plot", "plot.svg", "--json"] + Self.quick, in: directory)
      #expect(train.exitCode == 0, "\(train)")
      try Data(train.stdout.utf8).write(to: directory.appendingPathComponent("run.jsonl"))
      let curves = try cnn("visualize", "curves", "--log", "run.jsonl", "-o", "curves.svg", in: directory)
      #expect(curves.exitCode == 0, "\(curves)")
      let plot = try String(contentsOf: directory.appendingPathComponent("plot.svg"), encoding: .utf8)
      let drawn = try String(contentsOf: directory.appendingPathComponent("curves.svg"), encoding: .utf8)
      let subtitle = "/tiny) · simple-convnet · Adam, learning rate 0.001 · batches of 6 · 54 training images"
      #expect(plot.contains(subtitle), "\(plot.prefix(600))")
      #expect(drawn.contains(subtitle), "\(drawn.prefix(600))")
    }
  }
}
