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

  /// A directory is refused before anything is written: no temporary file, the directory and
  /// its contents as they were, and a message naming the path, what it is, and a hint.
  @Test func directoryTargetIsRefusedUpFront() throws {
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
    let error = try #require(failure, "writing over a directory should fail")
    #expect(error == .fileWrite(.unsuitableTarget(path: target.path, kind: .directory)))
    #expect(error.description.contains("\(target.path): it is a directory, not a file"))
    #expect(error.description.contains("---> HINT: name a file inside it"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["occupied"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["child"])
  }

  @Test func missingDirectory() {
    let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/model.safetensors")
    #expect(throws: CheckpointError.self) { try AtomicFile.write([1, 2, 3], to: url) }
  }
}
