import Foundation
import Testing

/// The bugs of the run redesign, each as its user met it: a model trained with
/// `--normalize`, resumes that extend, contradict or change the data, and pictures of a
/// model trained on other data than the bundled digits.
@Suite struct RunRegressionTests {
  static let quick = ["--dataset", "folder", "--data-dir", "tiny", "--batch-size", "6", "--threads", "1"]

  static func json(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
  }

  static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

  /// Bug 1: `predict` (and the pictures) fed raw pixels to a model trained on normalized
  /// ones. Now every image predict classifies is normalized as in training, so its answers
  /// agree with `evaluate`'s, image for image.
  @Test func predictNormalizesAsInTraining() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let train = try cnn(
        ["train", "--epochs", "3", "--normalize", "--checkpoint", "c.safetensors"] + Self.quick, in: directory)
      #expect(train.exitCode == 0, "\(train)")
      var correct = 0
      for split in ["train", "test"] {
        let evaluate = try cnn("evaluate", "--checkpoint", "c.safetensors", "--split", split, "--json", in: directory)
        #expect(evaluate.exitCode == 0, "\(evaluate)")
        correct += Int(Self.number(Self.json(evaluate.stdout).first?["correct"]) ?? -1000)
      }
      var images: [String] = []
      for name in TinyFolderDataset.classNames {
        for n in 0..<TinyFolderDataset.imagesPerClass { images.append("tiny/\(name)/" + String(format: "%02d.png", n)) }
      }
      let predict = try cnn(["predict", "--checkpoint", "c.safetensors", "--top", "1"] + images, in: directory)
      #expect(predict.exitCode == 0, "\(predict)")
      let right = predict.stdout.split(separator: "\n").filter { line in
        // "tiny/<class>/07.png: <predicted> 97.1%"
        let parts = line.split(separator: " ")
        guard parts.count >= 2 else { return false }
        return parts[0].split(separator: "/").dropFirst().first == parts[1][...]
      }.count
      #expect(correct > 0 && right == correct, "predict: \(right) right, evaluate: \(correct)\n\(predict.stdout)")
    }
  }

  /// Bug 2: `--resume --epochs 3` of a 2-epoch cosine run kept the 2-epoch curve, so epoch 3
  /// ran at rate 0, and the header showed the previous epoch's rate. Now the cosine is
  /// re-planned to end at epoch 3, the first line says so, and epoch 3 runs at its rate.
  @Test func extendingACosineRunReplansIt() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let first = try cnn(["train", "--epochs", "2", "--checkpoint", "a.safetensors"] + Self.quick, in: directory)
      #expect(first.exitCode == 0, "\(first)")
      let resumed = try cnn("train", "--resume", "a.safetensors", "--epochs", "3", "--json", in: directory)
      #expect(resumed.exitCode == 0, "\(resumed)")
      let events = Self.json(resumed.stdout)
      let started = try #require(events.first { $0["event"] as? String == "started" }, "\(resumed)")
      let notes = started["notes"] as? [String] ?? []
      #expect(notes.contains { $0.contains("re-planned to end at epoch 3") }, "\(notes)")
      // Adam 0.001 on a cosine over 3 epochs: epoch 3 runs at 0.001 · (1 + cos(2π/3)) / 2.
      let expected = 0.001 * 0.25
      let rate = try #require(Self.number(started["learning_rate"]))
      #expect(abs(rate - expected) < 1e-9, "\(started)")
      let epoch = try #require(events.first { $0["event"] as? String == "epoch" }, "\(resumed)")
      #expect(Self.number(epoch["epoch"]) == 3 && abs((Self.number(epoch["learning_rate"]) ?? 0) - expected) < 1e-9)
      // The human view says it too, first (the JSON run saved epoch 3 back into a.safetensors).
      let text = try cnn("train", "--resume", "a.safetensors", "--epochs", "4", "--checkpoint", "b.safetensors", in: directory)
      #expect(text.exitCode == 0, "\(text)")
      #expect(text.stdout.hasPrefix("Resuming a.safetensors after epoch 3, up to epoch 4."), "\(text.stdout)")
    }
  }

  /// Bug 3: options that contradict the resumed run were silently ignored. Now each is refused
  /// by name (with the saved value), and options that agree are accepted.
  @Test func resumeRefusesContradictingOptions() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let first = try cnn(["train", "--epochs", "1", "--checkpoint", "a.safetensors"] + Self.quick, in: directory)
      #expect(first.exitCode == 0, "\(first)")
      let contradictions: [[String]] = [
        ["--model", "lenet5"], ["--optimizer", "sgd"], ["--learning-rate", "0.5"], ["--batch-size", "12"],
        ["--augment", "flip"], ["--schedule", "constant"], ["--seed", "7"], ["--normalize"],
      ]
      for options in contradictions {
        let result = try cnn(["train", "--resume", "a.safetensors", "--epochs", "2"] + options, in: directory)
        #expect(result.exitCode != 0, "\(options): \(result)")
        #expect(result.stderr.contains(options[0]) && result.stderr.contains("conflicts"), "\(options): \(result)")
      }
      let agreeing = try cnn(
        "train", "--resume", "a.safetensors", "--epochs", "2", "--batch-size", "6", "--optimizer", "adam", in: directory)
      #expect(agreeing.exitCode == 0, "\(agreeing)")
    }
  }

  /// Bug 4: resuming on a two-class folder trained a 10-output model on 2 classes and
  /// overwrote the checkpoint with metadata that no longer loaded. Now it is refused before
  /// anything is written.
  @Test func resumeOnOtherClassesLeavesTheCheckpointAlone() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let two = directory.appendingPathComponent("two")
      for name in ["cat", "dog"] {
        let folder = two.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for n in 0..<4 {
          try TestPNG.write(to: folder.appendingPathComponent("\(n).png"), width: 12, height: 12) { x, y in
            UInt8((x * 20 + y * (name == "cat" ? 3 : 9) + n) % 256)
          }
        }
      }
      let first = try cnn(["train", "--epochs", "1", "--checkpoint", "a.safetensors"] + Self.quick, in: directory)
      #expect(first.exitCode == 0, "\(first)")
      let before = try Data(contentsOf: directory.appendingPathComponent("a.safetensors"))
      let resumed = try cnn(
        "train", "--resume", "a.safetensors", "--epochs", "2", "--data-dir", "two", in: directory)
      #expect(resumed.exitCode != 0, "\(resumed)")
      #expect(resumed.stderr.contains("2 classes") && resumed.stderr.contains("3"), "\(resumed)")
      #expect(try Data(contentsOf: directory.appendingPathComponent("a.safetensors")) == before)
      let evaluate = try cnn("evaluate", "--checkpoint", "a.safetensors", in: directory)
      #expect(evaluate.exitCode == 0, "\(evaluate)")
    }
  }

  /// Bug 5: `visualize confusion` scored the bundled MNIST digits whatever the model was
  /// trained on. Now it reads the checkpoint's own test set (or --dataset), normalized as in
  /// training, and agrees with `evaluate`.
  @Test func confusionUsesTheCheckpointsData() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let train = try cnn(
        ["train", "--epochs", "2", "--normalize", "--checkpoint", "c.safetensors"] + Self.quick, in: directory)
      #expect(train.exitCode == 0, "\(train)")
      let evaluate = try cnn("evaluate", "--checkpoint", "c.safetensors", "--json", in: directory)
      let report = try #require(Self.json(evaluate.stdout).first, "\(evaluate)")
      let correct = Int(Self.number(report["correct"]) ?? -1)
      let count = Int(Self.number(report["count"]) ?? -1)
      let picture = try cnn("visualize", "confusion", "--checkpoint", "c.safetensors", "-o", "m.svg", in: directory)
      #expect(picture.exitCode == 0, "\(picture)")
      #expect(picture.stdout.contains("\(correct) of \(count) test images correct"), "\(picture)\n\(report)")
      let svg = try String(contentsOf: directory.appendingPathComponent("m.svg"), encoding: .utf8)
      #expect(TinyFolderDataset.classNames.allSatisfy { svg.contains(">\($0)<") }, "class names drawn")
      // Exported weights keep the run: evaluating them needs no --dataset either.
      let export = try cnn("export", "--checkpoint", "c.safetensors", "-o", "w.safetensors", in: directory)
      #expect(export.exitCode == 0, "\(export)")
      let weights = try cnn("evaluate", "--checkpoint", "w.safetensors", "--json", in: directory)
      #expect(Self.number(Self.json(weights.stdout).first?["correct"]) == Double(correct), "\(weights)")
    }
  }
}
