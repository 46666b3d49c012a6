import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a file so that readers see either the old contents or the new, never a part, and so
/// that nothing but the file named is ever replaced.
///
/// What happens depends on what the path names (symbolic links are followed first, so a link
/// stays a link and its target gets the new contents):
///
/// | Target | Write |
/// |---|---|
/// | nothing, or a regular file | a temporary file `.NAME.tmp-PID-RAND` next to it, written, `fsync`ed and renamed over it |
/// | a character device (`/dev/null`), a FIFO | in place, opened without `O_CREAT`/`O_TRUNC`, never renamed over |
/// | a directory, a socket, a block device | refused: `FileWriteError.unsuitableTarget` |
///
/// Renaming is atomic within a file system, and the directory is `fsync`ed so the rename itself
/// survives a crash. If anything fails (the producer throws, the disk fills, the process is
/// killed) the previous file stays whole. The temporary file is removed on a thrown error, at
/// exit, and on SIGINT, SIGTERM and SIGHUP (see `TemporaryFiles`); one left by a `kill -9` is
/// removed by the next write into its directory once its process is gone.
///
///     try AtomicFile.write(to: url) { writer in
///       try writer.write(header)
///       for chunk in chunks { try writer.write(chunk) }
///     }
public enum AtomicFile {
  /// Appends bytes to the temporary file (or to the device or FIFO).
  public struct Writer: ~Copyable {
    fileprivate let descriptor: Int32
    /// The path the user named, for messages.
    fileprivate let path: String
    /// Fails every write with this `errno` (tests of full and broken disks).
    fileprivate let injectedError: Int32?
    /// Bytes written so far.
    public private(set) var byteCount = 0

    /// Appends `bytes`, retrying short writes and interruptions.
    ///
    /// - Throws: `CheckpointError.fileWrite(.noSpace)` on a full disk,
    ///   `.fileWrite(.inputOutput)` on an I/O error, `.fileSystem` for anything else.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
      guard let base = bytes.baseAddress else { return }
      var offset = 0
      while offset < bytes.count {
        let written: Int
        if let injectedError {
          errno = injectedError
          written = -1
        } else {
          written = systemWrite(descriptor, base + offset, bytes.count - offset)
        }
        if written < 0 {
          if errno == EINTR { continue }
          throw writeError(operation: "write", path: path)
        }
        offset += written
      }
      byteCount += bytes.count
    }

    /// Appends `bytes`.
    public mutating func write(_ bytes: [UInt8]) throws(CheckpointError) {
      var failure: CheckpointError?
      bytes.withUnsafeBytes { raw in
        do throws(CheckpointError) { try write(raw) } catch { failure = error }
      }
      if let failure { throw failure }
    }
  }

  /// Writes the file at `url` with the bytes `produce` gives its writer, atomically.
  ///
  /// - Throws: `CheckpointError.fileWrite` when the target cannot hold a file or the disk is
  ///   full, `CheckpointError.fileSystem` when another system call fails, or whatever `produce`
  ///   throws; either way the file at `url` is as it was and no temporary file is left.
  public static func write(to url: URL, _ produce: (inout Writer) throws -> Void) throws {
    try write(to: url, injectingWriteError: nil, produce)
  }

  /// `write(to:_:)`, with every `write(2)` failing with `injectedError` when it is set.
  static func write(
    to url: URL, injectingWriteError injectedError: Int32?, _ produce: (inout Writer) throws -> Void
  ) throws {
    let named = url.standardizedFileURL.path
    let (resolved, kind) = try resolveSymbolicLinks(named)
    switch kind {
    case .missing, .regular:
      try replace(resolved, named: named, existing: kind == .regular, injectedError: injectedError, produce)
    case .characterDevice, .fifo:
      try writeInPlace(resolved, named: named, injectedError: injectedError, produce)
    default:
      throw CheckpointError.fileWrite(.unsuitableTarget(path: named, kind: kind))
    }
  }

  /// Writes `bytes` to `url` atomically.
  public static func write(_ bytes: [UInt8], to url: URL) throws {
    try write(to: url) { writer in try writer.write(bytes) }
  }

  /// Temporary file, `fsync`, rename over `target`.
  private static func replace(
    _ target: String, named: String, existing: Bool, injectedError: Int32?, _ produce: (inout Writer) throws -> Void
  ) throws {
    let slash = target.lastIndex(of: "/")
    let directory = slash.map { $0 == target.startIndex ? "/" : String(target[..<$0]) } ?? "."
    let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
    TemporaryFiles.removeStale(in: directory, name: name)
    let temporary =
      (directory == "/" ? "" : directory) + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
    let registration = TemporaryFiles.register(temporary)
    defer { TemporaryFiles.unregister(registration) }
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw writeError(operation: "create a temporary file in", path: directory, target: named)
    }
    var closed = false
    do {
      if existing {
        // The new file keeps the old one's permissions (a 0600 checkpoint stays private).
        var info = stat()
        if stat(target, &info) == 0 { _ = fchmod(descriptor, info.st_mode & 0o7777) }
      }
      var writer = Writer(descriptor: descriptor, path: named, injectedError: injectedError)
      try produce(&writer)
      guard fsync(descriptor) == 0 else { throw writeError(operation: "flush", path: named) }
      closed = true
      guard close(descriptor) == 0 else { throw writeError(operation: "close", path: named) }
      guard rename(temporary, target) == 0 else {
        throw writeError(operation: "rename the temporary file to", path: named)
      }
    } catch {
      if !closed { close(descriptor) }
      unlink(temporary)
      throw error
    }
    syncDirectory(directory)
  }

  /// Writes into an existing character device or FIFO: no temporary file, no truncation, no
  /// rename, so `/dev/null` stays a device. Opening a FIFO waits for a reader.
  private static func writeInPlace(
    _ target: String, named: String, injectedError: Int32?, _ produce: (inout Writer) throws -> Void
  ) throws {
    var descriptor: Int32
    repeat { descriptor = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC) } while descriptor < 0 && errno == EINTR
    guard descriptor >= 0 else { throw writeError(operation: "open", path: named) }
    defer { close(descriptor) }
    var writer = Writer(descriptor: descriptor, path: named, injectedError: injectedError)
    try produce(&writer)
  }

  /// Follows `path` through symbolic links (relative ones from the link's directory) to what it
  /// finally names, which may not exist yet.
  static func resolveSymbolicLinks(_ path: String) throws(CheckpointError) -> (path: String, kind: FileKind) {
    var current = path
    for _ in 0..<40 {
      var info = stat()
      guard lstat(current, &info) == 0 else {
        if errno == ENOENT { return (current, .missing) }
        throw .fileSystem(operation: "look at", path: current, reason: systemError())
      }
      let kind = FileKind(mode: UInt32(info.st_mode))
      guard kind == .symbolicLink else { return (current, kind) }
      var buffer = [CChar](repeating: 0, count: 4097)
      let length = readlink(current, &buffer, 4096)
      guard length > 0 else {
        throw .fileSystem(operation: "read the symbolic link", path: current, reason: systemError())
      }
      let destination = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      if destination.hasPrefix("/") {
        current = destination
      } else {
        let slash = current.lastIndex(of: "/")
        current = (slash.map { String(current[...$0]) } ?? "") + destination
      }
    }
    throw .fileSystem(operation: "follow the symbolic links of", path: path, reason: "more than 40 links (a loop?)")
  }

  /// Flushes the directory entry of a rename; a failure here cannot undo the rename, and some
  /// file systems refuse to open directories, so it is best effort.
  private static func syncDirectory(_ path: String) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    close(descriptor)
  }
}

/// The error for the current `errno` after `operation` on `path` failed: a full disk, an I/O
/// error and a read-only file system get their own hints, naming `target`, the file the user
/// asked for.
private func writeError(operation: String, path: String, target: String? = nil) -> CheckpointError {
  let target = target ?? path
  switch errno {
  case ENOSPC, EDQUOT: return .fileWrite(.noSpace(path: target))
  case EIO: return .fileWrite(.inputOutput(path: target))
  case EROFS: return .fileWrite(.readOnly(path: target))
  case EPERM where operation.hasPrefix("rename"): return .fileWrite(.readOnly(path: target))
  default: return .fileSystem(operation: operation, path: path, reason: systemError())
  }
}

/// `write(2)`, named apart from `Writer.write`.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Darwin)
    return Darwin.write(descriptor, buffer, count)
  #elseif canImport(Musl)
    return Musl.write(descriptor, buffer, count)
  #else
    return Glibc.write(descriptor, buffer, count)
  #endif
}

/// The message for the current `errno`.
private func systemError() -> String {
  String(cString: strerror(errno))
}
