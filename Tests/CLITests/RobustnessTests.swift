import Foundation
import Testing

/// Values that are well-formed and lying (huge command-line numbers, image sizes, data shapes,
/// file kinds) are refused with a message naming the value and the valid range or the memory
/// budget, instead of trapping, hanging or allocating gigabytes.
@Suite struct RobustnessTests {
  /// Numbers out of range are refused at parse time (exit code 64), with the range.
  static let outOfRange: [([String], String)] = [
    (["train", "--batch-size", "9223372036854775807"], "--batch-size must be in 1…65536"),
    (["summary", "--model", "lenet5", "--classes", "4611686018427387904"], "--classes must be 1 to 100000"),
    (["summary", "--model", "resnet152", "--classes", "1000000000000"], "--classes must be 1 to 100000"),
    (["explain", "conv", "--padding", "1000000"], "--padding must be 0 to 50"),
    (["explain", "conv", "--padding", "4611686018427387904"], "--padding must be 0 to 50"),
    (["benchmark", "--min-time", "inf"], "--min-time must be 0.001 to 3600"),
    (["visualize", "filters", "--model", "lenet5", "--scale", "100000", "-o", "f.png"], "--scale must be 1 to 100"),
  ]

  @Test(arguments: outOfRange)
  func numbersOutOfRangeAreRefusedWithTheRange(_ arguments: [String], _ message: String) throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(arguments, in: directory, timeout: 60)
      #expect(result.exitCode == 64, "\(result)")
      #expect(result.stderr.contains(message), "\(result)")
      #expect(!fileExists("f.png", in: directory))
    }
  }

  /// Lists with an empty name or value. Found by `Fuzz/`'s command-line harness: a part that is
  /// only "=" split into no pieces at all, and `--augment flip,=` trapped reading the name.
  static let emptyParts: [([String], String)] = [
    (["train", "--augment", "flip,="], "The value 'flip,=' is invalid for '--augment"),
    (["train", "--augment", "="], "The value '=' is invalid for '--augment"),
    (["train", "--schedule", "cosine,="], "The value 'cosine,=' is invalid for '--schedule"),
    (["train", "--schedule", "="], "The value '=' is invalid for '--schedule"),
  ]

  @Test(arguments: emptyParts)
  func listsWithEmptyPartsAreRefused(_ arguments: [String], _ message: String) throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(arguments, in: directory, timeout: 60)
      #expect(result.exitCode == 64, "\(result)")
      #expect(result.stderr.contains(message), "\(result)")
    }
  }

  /// Sizes that parse but would take terabytes are refused by the memory budget, naming them.
  static let overBudget: [[String]] = [
    ["summary", "--model", "lenet5", "--input", "1x100000x100000"],
    ["summary", "--model", "lenet5", "--input", "1x8192x8192"],
  ]

  @Test(arguments: overBudget)
  func networksThatCannotBeBuiltAreRefusedByTheBudget(_ arguments: [String]) throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(arguments, in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("memory budget") && result.stderr.contains("CNN_MEMORY_LIMIT"), "\(result)")
      #expect(result.stderr.contains(arguments.last ?? ""), "\(result)")
    }
  }

  @Test func theBudgetIsRaisedOrLoweredByTheEnvironment() throws {
    try withTemporaryDirectory { directory in
      // 0.1 MB is less than LeNet-5's 61,706 parameters × 8 bytes.
      let result = try cnn(
        ["summary", "--model", "lenet5"], in: directory, timeout: 60, environment: ["CNN_MEMORY_LIMIT": "0.0001"])
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("CNN_MEMORY_LIMIT=0.0001"), "\(result)")
    }
  }

  @Test func aFolderResizedToFiftyGigabytesIsRefusedBeforeResizing() throws {
    try withTemporaryDirectory { directory in
      let root = try TinyFolderDataset.write(to: directory)
      let result = try cnn(
        "train", "--dataset", "folder", "--data-dir", root.path, "--image-size", "4096x4096", "--epochs", "1",
        in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("4096x4096") && result.stderr.contains("memory budget"), "\(result)")
    }
  }

  @Test func aPNGDeclaringABillionPixelsIsRefusedFromItsHeader() throws {
    try withTemporaryDirectory { directory in
      try TestPNG.declaring(width: 32_000, height: 32_000).write(to: directory.appendingPathComponent("bomb.png"))
      let result = try cnn("convolve", "--kernel", "blur", "bomb.png", "-o", "out.png", in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("bomb.png") && result.stderr.contains("32000×32000"), "\(result)")
      #expect(!fileExists("out.png", in: directory))
    }
  }

  /// A FIFO and a character device made in the test's own temporary directory (the device with
  /// the numbers of the system's zero device), and a directory: refused by kind, by name.
  @Test func inputsThatAreNotRegularFilesAreRefusedByKind() throws {
    try withTemporaryDirectory { directory in
      let fifo = directory.appendingPathComponent("pipe.png").path
      #expect(mkfifo(fifo, 0o600) == 0)
      try FileManager.default.createDirectory(
        at: directory.appendingPathComponent("folder.png"), withIntermediateDirectories: false)
      var cases = [("pipe.png", "FIFO"), ("folder.png", "directory")]
      if mknod(directory.appendingPathComponent("zero.png").path, S_IFCHR | 0o600, (1 << 8) | 5) == 0 {
        cases.append(("zero.png", "character device"))
      }
      for (name, kind) in cases {
        let result = try cnn("convolve", "--kernel", "blur", name, "-o", "out.png", in: directory, timeout: 60)
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stderr.contains(name) && result.stderr.contains(kind), "\(result)")
        #expect(!result.output.contains("NSCocoaErrorDomain") && !result.output.contains("permission"), "\(result)")
      }
    }
  }

  @Test func aMissingDataDirectoryGivesTheDatasetsOwnHint() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("train", "--dataset", "folder", "--data-dir", "nowhere", "--epochs", "1", in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("nowhere") && result.stderr.contains("<class>"), "\(result)")
      #expect(!result.stderr.contains("MNIST") && !result.stderr.contains("idx3"), "\(result)")
    }
  }

  @Test func testImagesOfAnotherShapeAreRefusedBeforeTraining() throws {
    try withTemporaryDirectory { directory in
      let data = directory.appendingPathComponent("mixed")
      try TestIDX.write(to: data, training: 20, test: 10, testSize: (14, 56))
      let result = try cnn("train", "--data-dir", data.path, "--epochs", "1", in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("1×14×56") && result.stderr.contains("1×28×28"), "\(result)")
      #expect(!result.stdout.contains("epoch 1"), "\(result)")
    }
  }

  @Test func noTrainingImagesIsAnError() throws {
    try withTemporaryDirectory { directory in
      let data = directory.appendingPathComponent("empty")
      try TestIDX.write(to: data, training: 0, test: 10)
      let result = try cnn("train", "--data-dir", data.path, "--epochs", "1", in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("no images"), "\(result)")
    }
  }

  @Test func noTestImagesReportsNoAccuracyRatherThanZero() throws {
    try withTemporaryDirectory { directory in
      let data = directory.appendingPathComponent("untested")
      try TestIDX.write(to: data, training: 20, test: 0)
      let result = try cnn("train", "--data-dir", data.path, "--epochs", "1", "--json", in: directory, timeout: 120)
      #expect(result.exitCode == 0, "\(result)")
      let finished = result.stdout.split(separator: "\n").last { $0.contains(#""event":"finished""#) } ?? ""
      #expect(finished.contains(#""test_accuracy":null"#), "\(result)")
    }
  }

  @Test func anEmptyCIFARMetaFileSaysWhatIsWrong() throws {
    try withTemporaryDirectory { directory in
      let data = directory.appendingPathComponent("cifar")
      try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
      let record = Data(count: 3073)
      for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
        try record.write(to: data.appendingPathComponent(name))
      }
      try Data().write(to: data.appendingPathComponent("batches.meta.txt"))
      let result = try cnn("train", "--dataset", "cifar10", "--data-dir", data.path, "--epochs", "1", in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("batches.meta.txt") && result.stderr.contains("names no classes"), "\(result)")
      #expect(!result.stderr.contains("IDX"), "\(result)")
    }
  }

  @Test func aDamagedCheckpointIsNamedInTheMessage() throws {
    try withTemporaryDirectory { directory in
      try Data([0xA8, 0x0F, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: directory.appendingPathComponent("cut.safetensors"))
      let result = try cnn("evaluate", "--checkpoint", "cut.safetensors", in: directory, timeout: 60)
      #expect(result.exitCode == 1, "\(result)")
      #expect(result.stderr.contains("cut.safetensors: The header length"), "\(result)")
    }
  }
}
