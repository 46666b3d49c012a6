import Foundation
import Testing

@testable import CNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `OutputGuard` refuses outputs that would destroy an input or a checkpoint.
@Suite struct OutputGuardTests {
  /// The same file under another spelling, through a hard link or a symbolic link, is caught
  /// by device and inode; `--force` does not override it.
  @Test func outputThatIsAnInputIsRefused() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let input = directory.appendingPathComponent("batch.safetensors").path
    try SafeTensors.write([("input", .zeros([1, 1, 2, 2]))], to: URL(fileURLWithPath: input))
    let hard = directory.appendingPathComponent("hard.safetensors").path
    try #require(link(input, hard) == 0)
    let soft = directory.appendingPathComponent("soft.safetensors").path
    try FileManager.default.createSymbolicLink(atPath: soft, withDestinationPath: "batch.safetensors")
    let spelled = directory.path + "/./batch.safetensors"
    for output in [input, hard, soft, spelled] {
      #expect(throws: FileWriteError.outputIsInput(output: output, input: input)) {
        try OutputGuard.check(output: output, inputs: ["/nonexistent/model", input], writing: .other, force: true)
      }
    }
    let other = directory.appendingPathComponent("logits.safetensors").path
    try OutputGuard.check(output: other, inputs: [input], writing: .other)
    try Data("x".utf8).write(to: URL(fileURLWithPath: other))
    try OutputGuard.check(output: other, inputs: [input], writing: .other)
  }

  /// A CNNKit checkpoint is not replaced by logits (`cnn predict --output`), a training
  /// checkpoint not by weights alone (`cnn export`), unless forced; checkpoints replace
  /// checkpoints, and plain safetensors files (no `format: cnnkit`) are not protected.
  @Test func checkpointsAreNotReplacedByOtherContent() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let weights = directory.appendingPathComponent("weights.safetensors").path
    try SafeTensors.write(
      [("0.weight", .zeros([2]))], metadata: ["format": "cnnkit", "model": "lenet5"], to: URL(fileURLWithPath: weights))
    let training = directory.appendingPathComponent("run.safetensors").path
    try SafeTensors.write(
      [("0.weight", .zeros([2]))], metadata: ["format": "cnnkit", "model": "lenet5", "epochs_completed": "3"],
      to: URL(fileURLWithPath: training))
    let plain = directory.appendingPathComponent("state_dict.safetensors").path
    try SafeTensors.write([("0.weight", .zeros([2]))], metadata: ["model": "lenet5"], to: URL(fileURLWithPath: plain))
    let text = directory.appendingPathComponent("notes.safetensors").path
    try Data("not safetensors at all".utf8).write(to: URL(fileURLWithPath: text))

    #expect(OutputGuard.checkpointKind(at: weights) == .weights)
    #expect(OutputGuard.checkpointKind(at: training) == .checkpoint)
    #expect(OutputGuard.checkpointKind(at: plain) == nil)
    #expect(OutputGuard.checkpointKind(at: text) == nil)

    let refused = #expect(throws: FileWriteError.self) {
      try OutputGuard.check(output: weights, inputs: [], writing: .other, forceOption: "--force")
    }
    #expect(refused?.description.contains("\(weights) is a CNNKit checkpoint") == true)
    #expect(refused?.hint.contains("pass --force to replace the checkpoint anyway") == true)
    #expect(throws: FileWriteError.self) { try OutputGuard.check(output: training, inputs: [], writing: .other) }
    #expect(throws: FileWriteError.self) { try OutputGuard.check(output: training, inputs: [], writing: .weights) }

    try OutputGuard.check(output: weights, inputs: [], writing: .other, force: true)
    try OutputGuard.check(output: training, inputs: [], writing: .weights, force: true)
    try OutputGuard.check(output: weights, inputs: [], writing: .weights)
    try OutputGuard.check(output: training, inputs: [], writing: .checkpoint)
    try OutputGuard.check(output: plain, inputs: [], writing: .other)
    try OutputGuard.check(output: text, inputs: [], writing: .other)
    try OutputGuard.check(output: directory.appendingPathComponent("new.safetensors").path, inputs: [], writing: .other)
  }

  /// A device or FIFO output replaces nothing, so it is never refused, even when an input is the
  /// same node.
  @Test func devicesAreNeverRefused() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let fifo = directory.appendingPathComponent("pipe").path
    try #require(mkfifo(fifo, 0o600) == 0)
    try OutputGuard.check(output: fifo, inputs: [fifo], writing: .other)
  }
}

/// A failed write to standard output is reported before exit, except a closed pipe.
@Suite struct StandardOutputFailureTests {
  /// `cnn train --json > file` on a full disk: standard output is a full device (`mknod c 1 7`,
  /// a file on a full disk fails the same way); the child's `Console.out` lines all fail, and the
  /// check before exit turns that into exit status 1 with the reason on standard error.
  @Test(.enabled(if: FileFaults.canStartChild)) func fullStandardOutputFailsTheRun() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let full = directory.appendingPathComponent("full")
    let mountPoint = directory.appendingPathComponent("small")
    var output: FileHandle
    var mounted = false
    if FileFaults.makeCharacterDevice(at: full.path, major: 1, minor: 7) {
      output = try #require(FileHandle(forWritingAtPath: full.path))
    } else {
      try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: false)
      guard FileFaults.mountTmpfs(on: mountPoint.path, size: "16k") else {
        print("skipped: neither mknod nor mount is allowed here")
        return
      }
      mounted = true
      let log = mountPoint.appendingPathComponent("run.jsonl")
      _ = FileManager.default.createFile(atPath: log.path, contents: nil)
      output = try #require(FileHandle(forWritingAtPath: log.path))
    }
    defer { if mounted { FileFaults.unmount(mountPoint.path) } }
    let child = try FileFaults.startChild(mode: "stdout", path: "-", standardOutput: output)
    child.waitUntilExit()
    try output.close()
    let message = String(decoding: try #require(child.standardError as? Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(child.terminationReason == .exit && child.terminationStatus == 1)
    #expect(message.contains("Could not write to standard output: No space left on device"))
    #expect(message.contains("---> HINT: the disk standard output is redirected to is full"))
  }

  /// A reader that stops early (`| head -1`) is not an error: exit status 0.
  @Test(.enabled(if: FileFaults.canStartChild)) func closedPipeIsNotAnError() throws {
    let pipe = Pipe()
    try pipe.fileHandleForReading.close()
    let child = try FileFaults.startChild(mode: "stdout", path: "-", standardOutput: pipe.fileHandleForWriting)
    child.waitUntilExit()
    #expect(child.terminationReason == .exit && child.terminationStatus == 0)
  }

  /// Everything written reached standard output: no failure.
  @Test(.enabled(if: FileFaults.canStartChild)) func workingStandardOutputIsNotAFailure() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let log = directory.appendingPathComponent("run.jsonl")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let output = try #require(FileHandle(forWritingAtPath: log.path))
    let child = try FileFaults.startChild(mode: "stdout", path: "-", standardOutput: output)
    child.waitUntilExit()
    #expect(child.terminationReason == .exit && child.terminationStatus == 0)
    #expect(try String(contentsOf: log, encoding: .utf8).split(separator: "\n").count == 200)
  }
}
