import Foundation
import Testing

/// What one run of `cnn` did.
struct CommandResult: CustomStringConvertible {
  var exitCode: Int32
  var stdout: String
  var stderr: String

  /// Standard output then standard error, for checks that should not depend on which stream
  /// a message goes to.
  var output: String { stdout + stderr }

  var description: String { "exit code \(exitCode)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Why a run of `cnn` could not be made or finished.
struct CLIHarnessError: Error, CustomStringConvertible {
  var description: String
}

/// The `cnn` executable that SwiftPM built next to this test bundle.
///
/// `swift test` builds the executable because `CLITests` depends on its target; the bundle
/// (`CNNKitPackageTests.xctest`) and `cnn` land in the same directory, `.build/<triple>/debug`.
/// On Linux the bundle is the running executable; on macOS it is loaded by `xctest`, so the
/// loaded `.xctest` bundles are searched too.
enum CNNExecutable {
  static let searched: [URL] = {
    var directories: [URL] = []
    if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
    if let first = CommandLine.arguments.first, first.contains("/") {
      directories.append(URL(fileURLWithPath: first).standardizedFileURL.deletingLastPathComponent())
    }
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
      directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    var seen: Set<String> = []
    return directories.map { $0.resolvingSymlinksInPath() }.filter { seen.insert($0.path).inserted }
  }()

  /// The executable, or `nil` when none of `searched` holds one.
  static let url: URL? = searched.map { $0.appendingPathComponent("cnn") }
    .first { FileManager.default.isExecutableFile(atPath: $0.path) }

  /// The executable, or an error that says where it was looked for and how to build it.
  static func located() throws -> URL {
    guard let url else {
      throw CLIHarnessError(
        description: "The `cnn` executable is not next to the test bundle (looked in "
          + searched.map(\.path).joined(separator: ", ")
          + "). `swift test` builds it (CLITests depends on the cnn target); after a partial build, run "
          + "`swift build --product cnn`.")
    }
    return url
  }
}

/// Runs `cnn arguments…` in `directory` and waits for it, at most `timeout` seconds.
///
/// Standard input is `stdin`, or empty; standard output and error are collected separately
/// (through files, so a chatty command cannot fill a pipe and block).
func cnn(
  _ arguments: String..., stdin: Data? = nil, in directory: URL, timeout: Double = 240
) throws -> CommandResult {
  try cnn(arguments, stdin: stdin, in: directory, timeout: timeout)
}

func cnn(
  _ arguments: [String], stdin: Data? = nil, in directory: URL, timeout: Double = 240,
  environment: [String: String] = [:]
) throws -> CommandResult {
  let process = Process()
  process.executableURL = try CNNExecutable.located()
  process.arguments = arguments
  if !environment.isEmpty {
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  }
  process.currentDirectoryURL = directory

  let logs = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-logs-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: logs) }
  let outURL = logs.appendingPathComponent("stdout"), errURL = logs.appendingPathComponent("stderr")
  _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
  _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
  let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
  defer {
    try? out.close()
    try? err.close()
  }
  process.standardOutput = out
  process.standardError = err
  let input = stdin.map { _ in Pipe() }
  process.standardInput = input ?? FileHandle.nullDevice

  let exited = DispatchSemaphore(value: 0)
  process.terminationHandler = { _ in exited.signal() }
  try process.run()
  if let input, let stdin {
    try input.fileHandleForWriting.write(contentsOf: stdin)
    try input.fileHandleForWriting.close()
  }
  if exited.wait(timeout: .now() + timeout) == .timedOut {
    process.terminate()
    exited.wait()
    throw CLIHarnessError(description: "`cnn \(arguments.joined(separator: " "))` ran over \(timeout) s and was stopped.")
  }
  let text = { (url: URL) in String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self) }
  return CommandResult(exitCode: process.terminationStatus, stdout: text(outURL), stderr: text(errURL))
}

/// Runs `body` in a new, empty temporary directory, which is removed afterwards.
func withTemporaryDirectory<Result>(_ body: (URL) throws -> Result) throws -> Result {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("CLITests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  return try body(directory.resolvingSymlinksInPath())
}

/// The package's root directory (this file is `Tests/CLITests/CLISupport.swift`).
let packageRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Whether `directory/name` is a file.
func fileExists(_ name: String, in directory: URL) -> Bool {
  var isDirectory: ObjCBool = false
  return FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDirectory)
    && !isDirectory.boolValue
}

/// The first bytes of every PNG file.
let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

/// Whether the file at `url` starts with the PNG signature and an `IHDR` of `width × height`
/// (when given).
func isPNG(_ url: URL, width: Int? = nil, height: Int? = nil) -> Bool {
  guard let data = try? Data(contentsOf: url), data.count > 33 else { return false }
  let bytes = [UInt8](data)
  guard Array(bytes[0..<8]) == pngSignature, String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" else {
    return false
  }
  func bigEndian(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
  return (width.map { $0 == bigEndian(16) } ?? true) && (height.map { $0 == bigEndian(20) } ?? true)
}
