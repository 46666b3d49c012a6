import Foundation
import Testing

/// `cnn train` and the commands that read its checkpoint, on a tiny generated image folder (54
/// training and 6 test images of 12×12, three classes) so each run takes well under a second.
@Suite struct TrainingWorkflowTests {
  /// The options of a quick, deterministic run on `TinyFolderDataset` in `tiny/`.
  static let quick = ["--dataset", "folder", "--data-dir", "tiny", "--batch-size", "6", "--threads", "1"]

  @Test func trainThenEvaluatePredictVisualizeAndExport() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let train = try cnn(["train", "--epochs", "1", "--checkpoint", "c.safetensors"] + Self.quick, in: directory)
      #expect(train.exitCode == 0, "\(train)")
      #expect(train.stdout.contains("epoch 1"), "\(train)")
      try #require(fileExists("c.safetensors", in: directory), "\(train)")

      // evaluate: the data comes from the checkpoint; --json is one object.
      let evaluate = try cnn("evaluate", "--checkpoint", "c.safetensors", "--json", in: directory)
      #expect(evaluate.exitCode == 0, "\(evaluate)")
      let report = try #require(
        try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any], "\(evaluate)")
      let accuracy = try #require((report["accuracy"] as? NSNumber)?.doubleValue, "\(evaluate)")
      #expect((0...1).contains(accuracy))
      #expect(report["count"] as? Int == 6, "\(evaluate)")
      #expect(report["class_names"] as? [String] == TinyFolderDataset.classNames, "\(evaluate)")
      let text = try cnn("evaluate", "--checkpoint", "c.safetensors", in: directory)
      #expect(text.exitCode == 0, "\(text)")

      // predict: one line per image, naming the image and starting with one of the classes.
      let image = "tiny/top/00.png"
      let predict = try cnn("predict", "--checkpoint", "c.safetensors", "--top", "2", image, in: directory)
      #expect(predict.exitCode == 0, "\(predict)")
      let line = predict.stdout.split(separator: "\n").first.map(String.init) ?? ""
      #expect(line.hasPrefix(image), "\(predict)")
      let top = line.dropFirst(image.count).drop { $0 == ":" || $0 == " " }.split(separator: " ").first
      #expect(top.map { TinyFolderDataset.classNames.contains(String($0)) } == true, "\(predict)")

      // visualize: the trained filters and the feature maps of one image.
      let filters = try cnn("visualize", "filters", "--checkpoint", "c.safetensors", "-o", "f.png", in: directory)
      #expect(filters.exitCode == 0, "\(filters)")
      #expect(isPNG(directory.appendingPathComponent("f.png")))
      let maps = try cnn(
        "visualize", "activations", "--checkpoint", "c.safetensors", "--image", image, "-o", "a.png", in: directory)
      #expect(maps.exitCode == 0, "\(maps)")
      #expect(isPNG(directory.appendingPathComponent("a.png")))

      // export: weights alone, smaller than the checkpoint, and still usable by predict.
      let export = try cnn("export", "--checkpoint", "c.safetensors", "-o", "w.safetensors", in: directory)
      #expect(export.exitCode == 0, "\(export)")
      let size = { (name: String) in
        (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size])
          .flatMap { $0 as? Int } ?? 0
      }
      #expect(size("w.safetensors") > 0 && size("w.safetensors") < size("c.safetensors"))
      let again = try cnn("predict", "--checkpoint", "w.safetensors", "--top", "2", image, in: directory)
      #expect(again.exitCode == 0, "\(again)")
      #expect(again.stdout == predict.stdout.replacingOccurrences(of: "c.safetensors", with: "w.safetensors"))
    }
  }

  /// One epoch, then a resumed second, ends where two epochs in one go end.
  @Test func resumingContinuesTheRunExactly() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      // A constant learning rate: a schedule is fixed by the first run's --epochs.
      let options = Self.quick + ["--schedule", "constant"]
      let whole = try cnn(["train", "--epochs", "2", "--checkpoint", "whole.safetensors"] + options, in: directory)
      #expect(whole.exitCode == 0, "\(whole)")
      let first = try cnn(["train", "--epochs", "1", "--checkpoint", "part.safetensors"] + options, in: directory)
      #expect(first.exitCode == 0, "\(first)")
      let resumed = try cnn("train", "--resume", "part.safetensors", "--epochs", "2", in: directory)
      #expect(resumed.exitCode == 0, "\(resumed)")
      #expect(resumed.stdout.contains("epoch 2") && !resumed.stdout.contains("epoch 1 "), "\(resumed)")
      let evaluations = try ["whole.safetensors", "part.safetensors"].map { name in
        try cnn("evaluate", "--checkpoint", name, "--json", in: directory)
      }
      #expect(evaluations.allSatisfy { $0.exitCode == 0 }, "\(evaluations)")
      #expect(evaluations[0].stdout == evaluations[1].stdout)
      let epochLine = { (result: CommandResult) in
        // "epoch 2", "train loss …", "train acc …", "test acc …", without the timings (and not
        // the progress line of a step, "epoch 2  batch 1/9 …", which a resumed run prints first).
        result.stdout.split(separator: "\n").first { $0.hasPrefix("epoch 2  train loss") }?.components(separatedBy: "  ")
          .prefix(4)
      }
      #expect(epochLine(whole) != nil && epochLine(whole) == epochLine(resumed), "\(whole)\n\(resumed)")

      // A run that has done its epochs says so instead of training again.
      let done = try cnn("train", "--resume", "part.safetensors", "--epochs", "2", in: directory)
      #expect(done.exitCode != 0, "\(done)")
      #expect(done.stderr.contains("part.safetensors") && done.stderr.contains("--epochs"), "\(done)")
    }
  }

  @Test func jsonLogDrawsCurves() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let train = try cnn(["train", "--epochs", "1", "--json"] + Self.quick, in: directory)
      #expect(train.exitCode == 0, "\(train)")
      let lines = train.stdout.split(separator: "\n")
      #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") }, "\(train)")
      try Data(train.stdout.utf8).write(to: directory.appendingPathComponent("run.jsonl"))
      let curves = try cnn("visualize", "curves", "--log", "run.jsonl", "-o", "curves.svg", in: directory)
      #expect(curves.exitCode == 0, "\(curves)")
      let svg = try String(contentsOf: directory.appendingPathComponent("curves.svg"), encoding: .utf8)
      #expect(svg.contains("<svg"))
    }
  }
}
