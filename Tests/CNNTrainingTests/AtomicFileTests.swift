import Foundation
import Testing

@testable import CNNTraining

@Suite struct AtomicFileTests {
  struct Interrupted: Error {}

  @Test func replacesTheFileWhole() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Array("old".utf8), to: url)
    try AtomicFile.write(Array("new contents".utf8), to: url)
    #expect(try Data(contentsOf: url) == Data("new contents".utf8))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
  }

  /// A save that fails midway (here the producer throws after writing half) leaves the old
  /// checkpoint byte for byte, and no temporary file behind.
  @Test func keepsTheOldFileWhenWritingFailsMidway() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("model.safetensors")
    let old = SafeTensors.encode([("w", .init(repeating: 1, shape: [1000]))], metadata: ["epoch": "1"])
    try AtomicFile.write(old, to: url)

    var written = 0
    #expect(throws: Interrupted.self) {
      try AtomicFile.write(to: url) { writer in
        try writer.write([UInt8](repeating: 7, count: 2000))
        written = writer.byteCount
        throw Interrupted()
      }
    }
    #expect(written == 2000)
    #expect(try [UInt8](Data(contentsOf: url)) == old)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    let file = try SafeTensorsFile(contentsOf: url)
    #expect(file.metadata == ["epoch": "1"])
  }

  /// A checkpoint whose tensors cannot all be written keeps the previous checkpoint: the
  /// failure comes from the file system (the target is a directory, so the rename fails
  /// after every byte went to the temporary file).
  @Test func failedRenameLeavesNoTemporaryFile() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("occupied")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
    try FileManager.default.createDirectory(at: target.appendingPathComponent("child"), withIntermediateDirectories: false)
    var failure: CheckpointError?
    do {
      try SafeTensors.write([("w", .zeros([4]))], to: target)
    } catch {
      failure = error
    }
    let error = try #require(failure, "writing over a non-empty directory should fail")
    guard case .fileSystem(let operation, _, _) = error else {
      Issue.record("expected a file-system error, got \(error)")
      return
    }
    #expect(operation.contains("rename"))
    #expect(error.description.hasSuffix("check that the directory exists, is writable and has free space."))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["occupied"])
  }

  @Test func missingDirectory() {
    let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/model.safetensors")
    #expect(throws: CheckpointError.self) { try AtomicFile.write([1, 2, 3], to: url) }
  }
}
