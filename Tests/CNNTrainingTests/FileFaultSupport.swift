import Foundation
import Testing

@testable import CNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Helpers for the file-fault tests: device nodes, mounts and child processes, all inside a
/// fresh temporary directory; nothing outside it is ever written.
enum FileFaults {
  /// The environment variable that turns `ChildProcessHelper` on in a re-run of the test binary.
  static let childVariable = "CNNKIT_FILE_FAULT_CHILD"

  /// Whether this process is such a child (then the tests that spawn children do nothing).
  static var isChild: Bool { ProcessInfo.processInfo.environment[childVariable] != nil }

  /// Whether tests may start children: not inside a child, and where the running test binary
  /// can be found again (`/proc/self/exe`, Linux).
  static var canStartChild: Bool { !isChild && FileManager.default.fileExists(atPath: "/proc/self/exe") }

  /// Runs a program to completion; returns its exit status (-1 when it could not start).
  @discardableResult
  static func run(_ executable: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Makes a character device node `major:minor` at `path`; `false` when not allowed (not root).
  static func makeCharacterDevice(at path: String, major: UInt32, minor: UInt32) -> Bool {
    mknod(path, 0o020000 | 0o666, deviceNumber(major: major, minor: minor)) == 0
  }

  /// Makes a block device node (never written; only to be refused).
  static func makeBlockDevice(at path: String, major: UInt32, minor: UInt32) -> Bool {
    mknod(path, 0o060000 | 0o600, deviceNumber(major: major, minor: minor)) == 0
  }

  /// Linux's `makedev`.
  static func deviceNumber(major: UInt32, minor: UInt32) -> dev_t {
    let major = UInt64(major), minor = UInt64(minor)
    return dev_t((major & 0xfff) << 8 | (minor & 0xff) | (minor & ~0xff) << 12 | (major & ~0xfff) << 32)
  }

  /// The `st_rdev` and kind of `path` (without following a link).
  static func node(_ path: String) -> (kind: FileKind, device: UInt64)? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return (FileKind(mode: UInt32(info.st_mode)), UInt64(info.st_rdev))
  }

  /// Mounts a tmpfs of `size` (e.g. `64k`) on `directory`; `false` when the machine refuses.
  static func mountTmpfs(on directory: String, size: String) -> Bool {
    run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", directory]) == 0
  }

  /// Makes a mounted tmpfs read-only (or read-write again).
  static func remount(_ directory: String, readOnly: Bool) -> Bool {
    run("/bin/mount", ["-o", "remount," + (readOnly ? "ro" : "rw"), directory]) == 0
  }

  static func unmount(_ directory: String) {
    if run("/bin/umount", [directory]) != 0 { run("/bin/umount", ["-l", directory]) }
  }

  /// The directory's entries, sorted.
  static func entries(_ directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
  }

  /// The temporary files of `name` in `directory`.
  static func temporaryFiles(of name: String, in directory: URL) -> [String] {
    entries(directory).filter { $0.hasPrefix("." + name + ".tmp-") }
  }

  /// A process ID that belonged to a process that has exited and been reaped.
  static func deadProcessID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "exit 0"]
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
  }

  /// Starts this test binary again, running only `ChildProcessHelper`, with `mode` and `path`
  /// in its environment.
  static func startChild(mode: String, path: String, standardOutput: FileHandle? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = childArguments
    var environment = ProcessInfo.processInfo.environment
    environment[childVariable] = mode + ":" + path
    process.environment = environment
    process.standardOutput = standardOutput ?? FileHandle.nullDevice
    process.standardError = Pipe()
    try process.run()
    return process
  }

  /// The arguments that make the test binary run `ChildProcessHelper` alone.
  static let childArguments = [
    "--testing-library", "swift-testing", "--filter", "ChildProcessHelper",
  ]

  /// Waits up to `seconds` for `condition`.
  static func wait(seconds: Double, for condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if condition() { return true }
      usleep(20_000)
    }
    return condition()
  }
}

/// Runs only in a child started by `FileFaults.startChild` (elsewhere it returns at once):
/// - `hold:PATH`: starts an atomic write of PATH, writes 64 KB, and waits to be killed;
/// - `exit:PATH`: starts an atomic write of PATH and calls `exit(0)` halfway;
/// - `stdout:-`: writes JSON lines to standard output with `Console.out`, then exits 1 with the
///   failure on standard error if `Console.standardOutputFailure()` reports one, else 0
///   (SIGPIPE is ignored, so a closed pipe shows as `EPIPE`).
@Suite struct ChildProcessHelper {
  @Test func child() throws {
    guard let value = ProcessInfo.processInfo.environment[FileFaults.childVariable],
      let colon = value.firstIndex(of: ":")
    else { return }
    let mode = String(value[..<colon])
    let path = String(value[value.index(after: colon)...])
    switch mode {
    case "hold":
      try AtomicFile.write(to: URL(fileURLWithPath: path)) { writer in
        try writer.write([UInt8](repeating: 0x41, count: 65536))
        while true { sleep(1) }
      }
    case "exit":
      try AtomicFile.write(to: URL(fileURLWithPath: path)) { writer in
        try writer.write([UInt8](repeating: 0x42, count: 65536))
        exit(0)
      }
    case "stdout":
      signal(SIGPIPE, SIG_IGN)
      for epoch in 1...200 {
        Console.out("{\"event\":\"epoch\",\"epoch\":\(epoch),\"padding\":\"\(String(repeating: "x", count: 200))\"}\n")
      }
      if let failure = Console.standardOutputFailure() {
        Console.error("\(failure)\n")
        exit(1)
      }
      exit(0)
    default:
      exit(3)
    }
    exit(4)
  }
}
