import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a file so that readers see either the old contents or the new, never a part.
///
/// The bytes go to a temporary file in the target's directory, which is written completely
/// and `fsync`ed, then renamed over the target (rename is atomic within a file system), and
/// the directory is `fsync`ed so the rename itself survives a crash. If anything fails — the
/// producer throws, the disk fills, the process is killed — the previous file stays whole; on
/// a thrown error the temporary file is removed.
///
///     try AtomicFile.write(to: url) { writer in
///       try writer.write(header)
///       for chunk in chunks { try writer.write(chunk) }
///     }
public enum AtomicFile {
  /// Appends bytes to the temporary file.
  public struct Writer: ~Copyable {
    fileprivate let descriptor: Int32
    fileprivate let path: String
    /// Bytes written so far.
    public private(set) var byteCount = 0

    /// Appends `bytes`, retrying short writes and interruptions.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
      guard let base = bytes.baseAddress else { return }
      var offset = 0
      while offset < bytes.count {
        let written = systemWrite(descriptor, base + offset, bytes.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          throw .fileSystem(operation: "write", path: path, reason: systemError())
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
  /// - Throws: `CheckpointError.fileSystem` when a system call fails, or whatever `produce`
  ///   throws; either way the file at `url` is as it was and no temporary file is left.
  public static func write(to url: URL, _ produce: (inout Writer) throws -> Void) throws {
    let target = url.standardizedFileURL
    let directory = target.deletingLastPathComponent().path
    let temporary = directory + "/." + target.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else {
      throw CheckpointError.fileSystem(operation: "create a temporary file in", path: directory, reason: systemError())
    }
    var closed = false
    do {
      var writer = Writer(descriptor: descriptor, path: temporary)
      try produce(&writer)
      guard fsync(descriptor) == 0 else {
        throw CheckpointError.fileSystem(operation: "flush", path: temporary, reason: systemError())
      }
      closed = true
      guard close(descriptor) == 0 else {
        throw CheckpointError.fileSystem(operation: "close", path: temporary, reason: systemError())
      }
      guard rename(temporary, target.path) == 0 else {
        throw CheckpointError.fileSystem(operation: "rename the temporary file to", path: target.path, reason: systemError())
      }
    } catch {
      if !closed { close(descriptor) }
      unlink(temporary)
      throw error
    }
    syncDirectory(directory)
  }

  /// Writes `bytes` to `url` atomically.
  public static func write(_ bytes: [UInt8], to url: URL) throws {
    try write(to: url) { writer in try writer.write(bytes) }
  }

  /// Flushes the directory entry of a rename; a failure here cannot undo the rename, and some
  /// file systems refuse to open directories, so it is best effort.
  private static func syncDirectory(_ path: String) {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    close(descriptor)
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
