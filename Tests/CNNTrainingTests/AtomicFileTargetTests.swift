import Foundation
import Testing

@testable import CNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `AtomicFile` does with each kind of target: devices and FIFOs are written in place and
/// never replaced, links are followed, directories and sockets are refused, and a full,
/// failing or read-only disk leaves the old file whole with a message that says why.
@Suite struct AtomicFileTargetTests {
  /// The issue: as root, `cnn train --checkpoint /dev/null` renamed a temporary file over the
  /// device. Here a null device made in a temporary directory (`mknod c 1 3`) takes a whole
  /// checkpoint and is still the same device afterwards, with nothing left beside it.
  @Test func characterDeviceIsWrittenInPlace() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let null = directory.appendingPathComponent("null")
    guard FileFaults.makeCharacterDevice(at: null.path, major: 1, minor: 3) else {
      print("skipped: mknod is not allowed here (needs root): \(String(cString: strerror(errno)))")
      return
    }
    let before = try #require(FileFaults.node(null.path))
    try SafeTensors.write([("w", .zeros([1000]))], metadata: ["format": "cnnkit"], to: null)
    try AtomicFile.write(Array("twice".utf8), to: null)
    let after = try #require(FileFaults.node(null.path))
    #expect(after.kind == .characterDevice)
    #expect(after.device == before.device && after.device == UInt64(FileFaults.deviceNumber(major: 1, minor: 3)))
    #expect(FileFaults.entries(directory) == ["null"])
  }

  /// A full device (`mknod c 1 7`, like `/dev/full`) fails every write with ENOSPC: the error
  /// says there is no space, and the device stays a device.
  @Test func fullDeviceReportsNoSpace() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let full = directory.appendingPathComponent("full")
    guard FileFaults.makeCharacterDevice(at: full.path, major: 1, minor: 7) else {
      print("skipped: mknod is not allowed here (needs root)")
      return
    }
    #expect(throws: CheckpointError.fileWrite(.noSpace(path: full.path))) {
      try AtomicFile.write(Array("logits".utf8), to: full)
    }
    #expect(FileFaults.node(full.path)?.kind == .characterDevice)
    #expect(FileFaults.entries(directory) == ["full"])
  }

  /// A FIFO is opened for writing and fed in place (a reader thread drains it), never renamed
  /// over: it is still a FIFO afterwards.
  @Test func fifoIsWrittenInPlace() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let fifo = directory.appendingPathComponent("pipe")
    try #require(mkfifo(fifo.path, 0o600) == 0, "mkfifo: \(String(cString: strerror(errno)))")
    let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let received = Received()
    let reader = Thread {
      guard let handle = FileHandle(forReadingAtPath: fifo.path) else { return }
      received.set(handle.readDataToEndOfFile())
      try? handle.close()
    }
    reader.start()
    try AtomicFile.write(payload, to: fifo)
    #expect(FileFaults.wait(seconds: 10) { received.get() != nil })
    #expect(received.get().map([UInt8].init) == payload)
    #expect(FileFaults.node(fifo.path)?.kind == .fifo)
    #expect(FileFaults.entries(directory) == ["pipe"])
  }

  /// A block device node (made here, never written) and a socket are refused up front.
  @Test func blockDeviceAndSocketAreRefused() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let block = directory.appendingPathComponent("disk")
    if FileFaults.makeBlockDevice(at: block.path, major: 7, minor: 200) {
      #expect(throws: CheckpointError.fileWrite(.unsuitableTarget(path: block.path, kind: .blockDevice))) {
        try AtomicFile.write([1, 2, 3], to: block)
      }
      #expect(FileFaults.node(block.path)?.kind == .blockDevice)
    } else {
      print("skipped the block device: mknod is not allowed here (needs root)")
    }
    let socketPath = directory.appendingPathComponent("socket").path
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    try #require(descriptor >= 0)
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      let bytes = Array(socketPath.utf8)
      raw.copyBytes(from: bytes.prefix(raw.count - 1))
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    try #require(bound == 0, "bind: \(String(cString: strerror(errno)))")
    let error = #expect(throws: CheckpointError.self) { try AtomicFile.write([1], to: URL(fileURLWithPath: socketPath)) }
    #expect(error == .fileWrite(.unsuitableTarget(path: socketPath, kind: .socket)))
    #expect(error?.description.contains("it is a socket, not a file") == true)
    #expect(FileFaults.node(socketPath)?.kind == .socket)
  }

  /// Writing through a symbolic link replaces the file it points to and keeps the link; a
  /// relative link resolves from the link's directory, a dangling one creates its target, and a
  /// link to a device writes the device in place.
  @Test func symbolicLinksArePreserved() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let real = directory.appendingPathComponent("runs/real.safetensors")
    try FileManager.default.createDirectory(
      at: real.deletingLastPathComponent(), withIntermediateDirectories: true)
    try AtomicFile.write(Array("old".utf8), to: real)
    let link = directory.appendingPathComponent("latest.safetensors")
    try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "runs/real.safetensors")

    try AtomicFile.write(Array("new".utf8), to: link)
    #expect(FileFaults.node(link.path)?.kind == .symbolicLink)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "runs/real.safetensors")
    #expect(try Data(contentsOf: real) == Data("new".utf8))
    #expect(FileFaults.entries(real.deletingLastPathComponent()) == ["real.safetensors"])

    let dangling = directory.appendingPathComponent("next.safetensors")
    try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: "runs/next.safetensors")
    try AtomicFile.write(Array("created".utf8), to: dangling)
    #expect(FileFaults.node(dangling.path)?.kind == .symbolicLink)
    #expect(try Data(contentsOf: directory.appendingPathComponent("runs/next.safetensors")) == Data("created".utf8))

    let null = directory.appendingPathComponent("null")
    if FileFaults.makeCharacterDevice(at: null.path, major: 1, minor: 3) {
      let toNull = directory.appendingPathComponent("discard.safetensors")
      try FileManager.default.createSymbolicLink(atPath: toNull.path, withDestinationPath: null.path)
      try AtomicFile.write(Array("gone".utf8), to: toNull)
      #expect(FileFaults.node(toNull.path)?.kind == .symbolicLink)
      #expect(FileFaults.node(null.path)?.kind == .characterDevice)
    }
  }

  /// A link loop is an error, not a hang.
  @Test func symbolicLinkLoopIsAnError() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let a = directory.appendingPathComponent("a"), b = directory.appendingPathComponent("b")
    try FileManager.default.createSymbolicLink(atPath: a.path, withDestinationPath: "b")
    try FileManager.default.createSymbolicLink(atPath: b.path, withDestinationPath: "a")
    #expect(throws: CheckpointError.self) { try AtomicFile.write([1], to: a) }
    #expect(FileFaults.entries(directory) == ["a", "b"])
  }

  /// A full disk: a 64 KB tmpfs holds the old checkpoint, and a 1 MB one does not fit. The
  /// error says no space is left, the old file is byte for byte the same, and no temporary file
  /// is left. Where mounting is not allowed, the same failure is injected into `write(2)`.
  @Test func fullDiskKeepsTheOldFile() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let mountPoint = directory.appendingPathComponent("small")
    try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: false)
    let mounted = FileFaults.mountTmpfs(on: mountPoint.path, size: "64k")
    defer { if mounted { FileFaults.unmount(mountPoint.path) } }
    if !mounted { print("mounting a tmpfs is not allowed here; injecting ENOSPC instead") }
    let target = mountPoint.appendingPathComponent("model.safetensors")
    let old = SafeTensors.encode([("w", .init(repeating: 1, shape: [100]))], metadata: ["epoch": "1"])
    try AtomicFile.write(old, to: target)
    let big = SafeTensors.encode([("w", .init(repeating: 2, shape: [262_144]))])
    let error = #expect(throws: CheckpointError.self) {
      try AtomicFile.write(to: target, injectingWriteError: mounted ? nil : ENOSPC) { writer in try writer.write(big) }
    }
    #expect(error == .fileWrite(.noSpace(path: target.path)))
    #expect(error?.description.contains("no space left on the device") == true)
    #expect(error?.hint.contains("free some space") == true)
    #expect(try [UInt8](Data(contentsOf: target)) == old)
    #expect(FileFaults.entries(mountPoint) == ["model.safetensors"])
  }

  /// An I/O error (injected: no disk fails on demand) keeps the old file and says so.
  @Test func ioErrorKeepsTheOldFile() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Array("old".utf8), to: target)
    #expect(throws: CheckpointError.fileWrite(.inputOutput(path: target.path))) {
      try AtomicFile.write(to: target, injectingWriteError: EIO) { writer in try writer.write(Array("new".utf8)) }
    }
    #expect(try Data(contentsOf: target) == Data("old".utf8))
    #expect(FileFaults.entries(directory) == ["model.safetensors"])
  }

  /// A read-only target. Root ignores permission bits (chmod 0555 stops nobody), so the
  /// directory is a tmpfs remounted read-only; where mounting is not allowed, the file is made
  /// immutable with `chattr +i` instead; where neither works the test says so and stops.
  @Test func readOnlyTargetKeepsTheOldFile() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let mountPoint = directory.appendingPathComponent("ro")
    try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: false)
    let mounted = FileFaults.mountTmpfs(on: mountPoint.path, size: "64k")
    defer { if mounted { FileFaults.unmount(mountPoint.path) } }
    let target = mountPoint.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Array("old".utf8), to: target)
    var immutable = false
    if mounted {
      try #require(FileFaults.remount(mountPoint.path, readOnly: true), "remount read-only")
    } else if FileFaults.run("/usr/bin/chattr", ["+i", target.path]) == 0 {
      immutable = true
    } else {
      print("skipped: neither a read-only tmpfs nor chattr +i is available here")
      return
    }
    defer { if immutable { FileFaults.run("/usr/bin/chattr", ["-i", target.path]) } }
    let error = #expect(throws: CheckpointError.self) { try AtomicFile.write(Array("new".utf8), to: target) }
    if mounted {
      #expect(error == .fileWrite(.readOnly(path: target.path)))
      #expect(error?.description.contains("read-only") == true)
    }
    #expect(try Data(contentsOf: target) == Data("old".utf8))
    #expect(FileFaults.entries(mountPoint) == ["model.safetensors"])
  }

  /// Replacing a file keeps its permission bits (a private checkpoint stays private).
  @Test func replacementKeepsPermissions() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Array("old".utf8), to: target)
    try #require(chmod(target.path, 0o600) == 0)
    try AtomicFile.write(Array("new".utf8), to: target)
    var info = stat()
    try #require(stat(target.path, &info) == 0)
    #expect(info.st_mode & 0o7777 == 0o600)
  }

  @Test func everyWriteErrorEndsWithAHint() {
    let errors: [FileWriteError] = [
      .unsuitableTarget(path: "/d", kind: .directory), .unsuitableTarget(path: "/s", kind: .socket),
      .noSpace(path: "/f"), .inputOutput(path: "/f"), .readOnly(path: "/f"), .outputIsInput(output: "a", input: "b"),
      .wouldReplaceCheckpoint(path: "c", existing: "a CNNKit checkpoint", replacement: "logits", force: "--force"),
      .standardOutput(errno: ENOSPC), .standardOutput(errno: 0),
    ]
    for error in errors {
      let lines = CheckpointError.fileWrite(error).description.split(separator: "\n")
      #expect(lines.count == 2 && lines.last?.hasPrefix("---> HINT: ") == true, "\(error)")
    }
  }
}

/// A value handed from the reader thread.
private final class Received: @unchecked Sendable {
  private let lock = NSLock()
  private var data: Data?
  func set(_ value: Data) { lock.withLock { data = value } }
  func get() -> Data? { lock.withLock { data } }
}
