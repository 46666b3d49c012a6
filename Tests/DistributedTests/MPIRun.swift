#if MPI
import Foundation

/// What one run of a command did.
struct RunResult: CustomStringConvertible {
  var exitCode: Int32
  var stdout: String
  var stderr: String
  var output: String { stdout + stderr }
  var description: String { "exit code \(exitCode)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

struct HarnessError: Error, CustomStringConvertible {
  var description: String
}

/// The `cnn` built next to this test bundle, and `mpirun` from `PATH`.
enum Executables {
  /// `CNN_EXECUTABLE` when set (e.g. a release build), else the `cnn` next to the test bundle.
  static func cnn() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["CNN_EXECUTABLE"] { return URL(fileURLWithPath: path) }
    var directories: [URL] = []
    if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
      directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    guard let url = directories.map({ $0.appendingPathComponent("cnn") })
      .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
    else {
      throw HarnessError(description: "no `cnn` next to the test bundle; run `swift build --traits MPI --product cnn`")
    }
    return url
  }

  static func mpirun() throws -> URL { try onPath("mpirun") }

  /// The program `name` from `PATH`.
  static func onPath(_ name: String) throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    guard let url = path.split(separator: ":").map({ URL(fileURLWithPath: String($0)).appendingPathComponent(name) })
      .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
    else { throw HarnessError(description: "no `\(name)` on PATH (mpirun comes with openmpi-bin, which .ci/run installs)") }
    return url
  }
}

/// A started process whose output goes to files in its directory.
final class RunningCommand {
  let process = Process()
  private let outURL: URL
  private let errURL: URL
  private let exited = DispatchSemaphore(value: 0)

  init(_ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws {
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let name = UUID().uuidString
    outURL = directory.appendingPathComponent("\(name).stdout")
    errURL = directory.appendingPathComponent("\(name).stderr")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    process.standardInput = FileHandle.nullDevice
    process.terminationHandler = { [exited] _ in exited.signal() }
    try process.run()
  }

  /// Waits for the end (at most `timeout` seconds, then stops it and throws).
  func wait(timeout: Double) throws -> RunResult {
    if exited.wait(timeout: .now() + timeout) == .timedOut {
      process.terminate()
      exited.wait()
      throw HarnessError(description: "\(process.arguments ?? []) ran over \(timeout) s and was stopped:\n\(result)")
    }
    return result
  }

  var result: RunResult {
    let text = { (url: URL) in String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self) }
    return RunResult(
      exitCode: process.isRunning ? -1 : process.terminationStatus, stdout: text(outURL), stderr: text(errURL))
  }
}

/// Open MPI refuses to run as root unless told twice; set for the launched processes only.
let mpiEnvironment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

/// `mpirun -np ranks cnn arguments…` in `directory`, started.
func startMPI(ranks: Int, _ arguments: [String], in directory: URL) throws -> RunningCommand {
  try RunningCommand(
    Executables.mpirun(),
    ["-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", Executables.cnn().path] + arguments,
    in: directory, environment: mpiEnvironment)
}

/// `mpirun -np ranks cnn arguments…` in `directory`, to its end.
func mpi(ranks: Int, _ arguments: [String], in directory: URL, timeout: Double = 300) throws -> RunResult {
  try startMPI(ranks: ranks, arguments, in: directory).wait(timeout: timeout)
}

/// `cnn arguments…` as one plain process (MPI not started).
func cnn(_ arguments: [String], in directory: URL, timeout: Double = 300) throws -> RunResult {
  try RunningCommand(Executables.cnn(), arguments, in: directory).wait(timeout: timeout)
}

/// Runs `body` in a new temporary directory, removed afterwards.
func withTemporaryDirectory<Result>(_ body: (URL) throws -> Result) throws -> Result {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("DistributedTests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  return try body(directory.resolvingSymlinksInPath())
}

/// A small image-folder dataset of binary PGM files: `classes` classes of `perClass` grey
/// `side × side` images (every tenth is the test split), each class a bright band in its own
/// rows over seeded noise.
func writeBands(to root: URL, side: Int, classes: Int = 3, perClass: Int) throws {
  var state: UInt64 = 0x2545_F491_4F6C_DD1D
  for label in 0..<classes {
    let folder = root.appendingPathComponent("class\(label)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for index in 0..<perClass {
      var pixels = [UInt8](repeating: 0, count: side * side)
      for y in 0..<side {
        for x in 0..<side {
          state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          let band = y * classes / side == label
          pixels[y * side + x] = UInt8(truncatingIfNeeded: state >> 58) &+ (band ? 180 : 20) &+ UInt8(x % 3)
        }
      }
      let header = Array("P5\n\(side) \(side)\n255\n".utf8)
      try Data(header + pixels).write(to: folder.appendingPathComponent(String(format: "%03d.pgm", index)))
    }
  }
}
#endif
