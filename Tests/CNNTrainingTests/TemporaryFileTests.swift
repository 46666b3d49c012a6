import Foundation
import Testing

@testable import CNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// No run leaves `.NAME.tmp-PID-RAND` files behind: they are registered while in flight and
/// removed at exit and on SIGINT/SIGTERM/SIGHUP; the one a `kill -9` leaves is removed by the
/// next write into its directory. Processes are real: the test binary is started again with
/// `FileFaults.childVariable` set and runs `ChildProcessHelper` alone.
@Suite struct TemporaryFileTests {
  /// While the producer runs, its temporary file is registered (so a signal would remove it);
  /// afterwards it is not.
  @Test func inFlightFileIsRegistered() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("model.safetensors")
    var during: [String] = []
    try AtomicFile.write(to: target) { writer in
      try writer.write([1, 2, 3])
      during = TemporaryFiles.registeredPaths.filter { $0.hasPrefix(directory.path + "/.model.safetensors.tmp-") }
      // Another write to the same target in this process does not take it for a stale file.
      TemporaryFiles.removeStale(in: directory.path, name: "model.safetensors")
      #expect(FileFaults.temporaryFiles(of: "model.safetensors", in: directory).count == 1)
    }
    #expect(during.count == 1)
    #expect(during.first.map { !FileManager.default.fileExists(atPath: $0) } == true)
    #expect(!TemporaryFiles.registeredPaths.contains { $0.hasPrefix(directory.path) })
  }

  /// Only `.NAME.tmp-PID-RAND` files of this target whose process is gone (or that carry this
  /// process's PID without being written by it) are removed: not a live process's (PID 1), not
  /// another target's, not near-misses.
  @Test func staleFilesOfDeadProcessesAreRemovedOnTheNextWrite() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let dead = try FileFaults.deadProcessID()
    let own = getpid()
    let stale = [
      ".model.safetensors.tmp-\(dead)-12345", ".model.safetensors.tmp-\(dead)-0", ".model.safetensors.tmp-\(own)-7",
    ]
    let kept = [
      ".model.safetensors.tmp-1-7", ".other.safetensors.tmp-\(dead)-7",
      ".model.safetensors.tmp-\(dead)-x", ".model.safetensors.tmp-\(dead)-7-8", ".model.safetensors.tmp-\(dead)-",
      "model.safetensors.tmp-\(dead)-7", ".model.safetensors.tmp-\(dead)-7.bak", "notes.txt",
    ]
    for name in stale + kept {
      try Data("x".utf8).write(to: directory.appendingPathComponent(name))
    }
    try AtomicFile.write(Array("new".utf8), to: directory.appendingPathComponent("model.safetensors"))
    #expect(FileFaults.entries(directory) == (kept + ["model.safetensors"]).sorted())
  }

  /// `kill -9` in the middle of a checkpoint write: the old checkpoint is intact (the process
  /// never got to rename), the dead process's temporary file is still there (SIGKILL cannot be
  /// caught), and the next write into the directory removes it.
  @Test(.enabled(if: FileFaults.canStartChild)) func killNineDuringAWriteLeavesTheOldFile() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("model.safetensors")
    let old = SafeTensors.encode([("w", .init(repeating: 1, shape: [100]))], metadata: ["epoch": "1"])
    try AtomicFile.write(old, to: target)

    let child = try FileFaults.startChild(mode: "hold", path: target.path)
    let pattern = ".model.safetensors.tmp-\(child.processIdentifier)-"
    let started = FileFaults.wait(seconds: 60) {
      FileFaults.entries(directory).contains { $0.hasPrefix(pattern) }
    }
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    try #require(started, "the child never started its write")
    #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL)
    #expect(try [UInt8](Data(contentsOf: target)) == old)
    #expect(FileFaults.temporaryFiles(of: "model.safetensors", in: directory).count == 1)

    try Checkpoint(tensors: [("w", .zeros([3]))]).write(to: target)
    #expect(FileFaults.entries(directory) == ["model.safetensors"])
    #expect(try SafeTensorsFile(contentsOf: target).names == ["w"])
  }

  /// SIGTERM, SIGINT or SIGHUP in the middle of a write: the handler removes the temporary
  /// file, the process still dies of the signal, and the old file is intact.
  @Test(.enabled(if: FileFaults.canStartChild), arguments: [SIGTERM, SIGINT, SIGHUP])
  func signalDuringAWriteRemovesTheTemporaryFile(signalNumber: Int32) throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Array("old".utf8), to: target)

    let child = try FileFaults.startChild(mode: "hold", path: target.path)
    let pattern = ".model.safetensors.tmp-\(child.processIdentifier)-"
    let started = FileFaults.wait(seconds: 60) {
      FileFaults.entries(directory).contains { $0.hasPrefix(pattern) }
    }
    kill(child.processIdentifier, signalNumber)
    child.waitUntilExit()
    try #require(started, "the child never started its write")
    #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == signalNumber)
    #expect(FileFaults.entries(directory) == ["model.safetensors"])
    #expect(try Data(contentsOf: target) == Data("old".utf8))
  }

  /// `exit(0)` in the middle of a write (a command that gives up halfway): the `atexit` hook
  /// removes the temporary file.
  @Test(.enabled(if: FileFaults.canStartChild)) func exitDuringAWriteRemovesTheTemporaryFile() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Array("old".utf8), to: target)
    let child = try FileFaults.startChild(mode: "exit", path: target.path)
    child.waitUntilExit()
    #expect(child.terminationReason == .exit && child.terminationStatus == 0)
    #expect(FileFaults.entries(directory) == ["model.safetensors"])
    #expect(try Data(contentsOf: target) == Data("old".utf8))
  }
}
