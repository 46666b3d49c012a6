import Foundation
import Testing

/// Bad input: missing files, unknown and conflicting options, and runs that fail. Each exits
/// non-zero with a message that says what was wrong.
@Suite struct ErrorTests {
  /// Every command that reads a checkpoint, given one that is not there.
  static let readers: [[String]] = [
    ["evaluate", "--checkpoint", "missing.safetensors"],
    ["predict", "--checkpoint", "missing.safetensors", "image.png"],
    ["export", "--checkpoint", "missing.safetensors", "-o", "out.safetensors"],
    ["visualize", "filters", "--checkpoint", "missing.safetensors", "-o", "f.png"],
    ["train", "--resume", "missing.safetensors", "--epochs", "2"],
  ]

  /// Bug 9: a checkpoint that cannot be read is named, with a hint about reading (not about free
  /// space or writable directories), and no doubled period.
  @Test(arguments: readers)
  func missingCheckpointIsNamedWithAReadHint(_ arguments: [String]) throws {
    try withTemporaryDirectory { directory in
      try TestPNG.write(to: directory.appendingPathComponent("image.png"), width: 28, height: 28) { _, _ in 0 }
      let result = try cnn(arguments, in: directory)
      #expect(result.exitCode != 0, "\(result)")
      #expect(result.stderr.contains("missing.safetensors"), "\(result)")
      #expect(result.stderr.contains("does not exist"), "\(result)")
      #expect(result.stderr.contains("HINT"), "\(result)")
      #expect(!result.output.contains("free space") && !result.output.contains("writable"), "\(result)")
      #expect(!result.output.contains(".."), "\(result)")
      #expect(!fileExists("out.safetensors", in: directory) && !fileExists("f.png", in: directory))
    }
  }

  @Test func aDirectoryGivenAsCheckpointIsNamed() throws {
    try withTemporaryDirectory { directory in
      try FileManager.default.createDirectory(
        at: directory.appendingPathComponent("folder.safetensors"), withIntermediateDirectories: false)
      let result = try cnn("evaluate", "--checkpoint", "folder.safetensors", in: directory)
      #expect(result.exitCode != 0, "\(result)")
      #expect(result.stderr.contains("folder.safetensors") && result.stderr.contains("directory"), "\(result)")
      #expect(!result.output.contains("free space") && !result.output.contains(".."), "\(result)")
    }
  }

  @Test func aFileThatIsNotSafetensorsIsRefusedWithAHint() throws {
    try withTemporaryDirectory { directory in
      try Data("not a checkpoint".utf8).write(to: directory.appendingPathComponent("text.safetensors"))
      let result = try cnn("evaluate", "--checkpoint", "text.safetensors", in: directory)
      #expect(result.exitCode != 0, "\(result)")
      #expect(result.stderr.contains("HINT"), "\(result)")
    }
  }

  @Test func missingImageIsNamed() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("convolve", "--kernel", "blur", "nowhere.png", "-o", "out.png", in: directory)
      #expect(result.exitCode != 0, "\(result)")
      #expect(result.stderr.contains("nowhere.png"), "\(result)")
      #expect(!fileExists("out.png", in: directory))
    }
  }

  @Test(arguments: [["train", "--bogus"], ["summary", "--model", "lenet5", "--colour"], ["visualize", "--x"]])
  func unknownOptionExitsWithUsage(_ arguments: [String]) throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(arguments, in: directory)
      #expect(result.exitCode != 0, "\(result)")
      #expect(result.stderr.contains("Unknown option '\(arguments.last!)'"), "\(result)")
      #expect(result.stdout.isEmpty, "\(result)")
    }
  }

  @Test func unknownSubcommandAndBadValuesExitNonZero() throws {
    try withTemporaryDirectory { directory in
      for arguments in [
        ["fly"], ["summary", "--model", "lenet6"], ["train", "--epochs", "0"], ["train", "--learning-rate", "-1"],
        ["convolve", "--kernel", "nope", "in.png", "-o", "out.png"],
      ] {
        let result = try cnn(arguments, in: directory)
        #expect(result.exitCode != 0, "cnn \(arguments.joined(separator: " ")): \(result)")
        #expect(!result.stderr.isEmpty, "cnn \(arguments.joined(separator: " ")): \(result)")
      }
    }
  }

  /// Options that cannot go together are refused before anything runs.
  @Test func conflictingOptionsAreRefused() throws {
    try withTemporaryDirectory { directory in
      try TestPNG.write(to: directory.appendingPathComponent("image.png"), width: 28, height: 28) { _, _ in 0 }
      let cases: [(arguments: [String], message: String)] = [
        (["predict", "--checkpoint", "c.safetensors", "--input", "x.safetensors", "--output", "y.safetensors", "image.png"],
         "not both"),
        (["predict", "--checkpoint", "c.safetensors", "--input", "x.safetensors"], "go together"),
        (["predict", "--checkpoint", "c.safetensors"], "Give images"),
        (["export", "--checkpoint", "c.safetensors", "-o", "c.safetensors"], "checkpoint itself"),
        (["visualize", "confusion", "--matrix", "m.json", "--model", "lenet5", "-o", "m.svg"], "leave out"),
        (["visualize", "filters", "-o", "f.png"], "--checkpoint"),
      ]
      for (arguments, message) in cases {
        let result = try cnn(arguments, in: directory)
        #expect(result.exitCode != 0, "cnn \(arguments.joined(separator: " ")): \(result)")
        #expect(result.stderr.contains(message), "cnn \(arguments.joined(separator: " ")): \(result)")
        #expect(!fileExists("y.safetensors", in: directory) && !fileExists("f.png", in: directory))
      }
    }
  }

  /// Bug 8: `cnn train --epochs 3 --optimizer sgd --learning-rate 50` ran all 3 epochs, printed
  /// "Finished", then "Stopped early", and exited 1. A run that the health checks stop ends
  /// with the reason and its hint only, and exits 1.
  @Test func aStalledRunEndsWithTheReasonNotFinished() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      // As reported, on the tiny folder (one batch per epoch): the network collapses to always
      // guessing one class, and the third epoch at chance stops the run (--stop-at-chance 3).
      let result = try cnn(
        "train", "--epochs", "3", "--optimizer", "sgd", "--learning-rate", "50", "--dataset", "folder",
        "--data-dir", "tiny", "--threads", "1", in: directory)
      #expect(result.exitCode == 1, "\(result)")
      #expect(!result.output.contains("Finished"), "\(result)")
      #expect(result.output.contains("at chance for 3 epochs"), "\(result)")
      // The reason and its hint are the last lines of their stream.
      for stream in [result.stdout, result.stderr] where stream.contains("at chance") {
        let lines = stream.split(separator: "\n")
        #expect(lines.last?.hasPrefix("---> HINT:") == true, "\(result)")
        #expect(lines.dropLast().last?.contains("at chance") == true, "\(result)")
      }
    }
  }

  /// With --stop-at-chance 1 the same run stops at its first epoch, not its last.
  @Test func aStalledRunStopsAtTheEpochItStalled() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let result = try cnn(
        ["train", "--epochs", "3", "--optimizer", "sgd", "--learning-rate", "50", "--stop-at-chance", "1",
         "--checkpoint", "c.safetensors"] + TrainingWorkflowTests.quick,
        in: directory)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stdout.contains("epoch 1 ") && !result.stdout.contains("epoch 2 "), "\(result)")
      #expect(!result.output.contains("Finished"), "\(result)")
      #expect(result.output.contains("---> HINT:"), "\(result)")
    }
  }
}
