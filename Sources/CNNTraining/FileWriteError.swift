#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a path names, as `lstat(2)` sees it.
public enum FileKind: Equatable, Sendable, CustomStringConvertible {
  /// Nothing is there yet.
  case missing
  case regular
  case directory
  /// `/dev/null`, `/dev/full`, a terminal.
  case characterDevice
  /// A disk or partition, `/dev/sda1`.
  case blockDevice
  /// A named pipe (`mkfifo`).
  case fifo
  case socket
  case symbolicLink
  case other

  /// The kind for the `st_mode` of a `stat` record.
  public init(mode: UInt32) {
    switch mode & 0o170000 {
    case 0o100000: self = .regular
    case 0o040000: self = .directory
    case 0o020000: self = .characterDevice
    case 0o060000: self = .blockDevice
    case 0o010000: self = .fifo
    case 0o140000: self = .socket
    case 0o120000: self = .symbolicLink
    default: self = .other
    }
  }

  /// `a directory`, `a character device`.
  public var description: String {
    switch self {
    case .missing: return "nothing"
    case .regular: return "a regular file"
    case .directory: return "a directory"
    case .characterDevice: return "a character device"
    case .blockDevice: return "a block device"
    case .fifo: return "a FIFO (named pipe)"
    case .socket: return "a socket"
    case .symbolicLink: return "a symbolic link"
    case .other: return "a special file"
    }
  }
}

/// Why an output file was not written: the target cannot hold a file, the disk refused the
/// bytes, or writing would destroy something the user keeps (an input, a checkpoint).
///
/// Each description ends with a `---> HINT:` line, as `CheckpointError`'s do; the previous
/// file is always left as it was.
public enum FileWriteError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The path names something a file cannot replace: a directory, a socket, a block device.
  case unsuitableTarget(path: String, kind: FileKind)
  /// The file system is full (`ENOSPC`) or the quota is used up (`EDQUOT`).
  case noSpace(path: String)
  /// The device reported an I/O error (`EIO`).
  case inputOutput(path: String)
  /// The file system is mounted read-only (`EROFS`), or the file is immutable.
  case readOnly(path: String)
  /// The output is the same file (device and inode) as one of the command's inputs.
  case outputIsInput(output: String, input: String)
  /// The output is a CNNKit checkpoint and what would replace it is not (or holds less).
  case wouldReplaceCheckpoint(path: String, existing: String, replacement: String, force: String?)
  /// Writing to standard output failed with this `errno` (0 when the C library did not say why).
  case standardOutput(errno: Int32)

  public var description: String {
    "\(problem)\n---> HINT: \(hint)"
  }

  /// What was wrong.
  public var problem: String {
    switch self {
    case .unsuitableTarget(let path, let kind):
      return "Cannot write to \(path): it is \(kind), not a file."
    case .noSpace(let path):
      return "Could not write \(path): no space left on the device."
    case .inputOutput(let path):
      return "Could not write \(path): the device reported an I/O error."
    case .readOnly(let path):
      return "Could not write \(path): the file system is read-only."
    case .outputIsInput(let output, let input):
      return "The output \(output) is the input \(input) (the same file); writing it would destroy the input."
    case .wouldReplaceCheckpoint(let path, let existing, let replacement, _):
      return "\(path) is \(existing); writing \(replacement) there would replace it."
    case .standardOutput(let code):
      return "Could not write to standard output: "
        + (code == 0 ? "a write failed" : String(cString: strerror(code))) + "; the output is incomplete."
    }
  }

  /// How to fix it.
  public var hint: String {
    switch self {
    case .unsuitableTarget(let path, let kind):
      switch kind {
      case .directory:
        return "name a file inside it, e.g. \(path.hasSuffix("/") ? path : path + "/")model.safetensors."
      default:
        return "name a regular file; CNNKit also writes to character devices such as /dev/null and to FIFOs, "
          + "in place."
      }
    case .noSpace:
      return "free some space (df -h shows what is left) or write to another disk; the previous file is unchanged "
        + "and no temporary file is left."
    case .inputOutput:
      return "the disk or network file system failed (see dmesg); the previous file is unchanged; write to "
        + "another disk."
    case .readOnly:
      return "write somewhere writable (or remount the file system read-write, or chattr -i the file); the "
        + "previous file is unchanged."
    case .outputIsInput:
      return "name a different output file so the input is kept."
    case .wouldReplaceCheckpoint(_, _, _, let force):
      return "name a different output file"
        + (force.map { ", or pass \($0) to replace the checkpoint anyway." } ?? " so the checkpoint is kept.")
    case .standardOutput(let code):
      return code == ENOSPC || code == EDQUOT
        ? "the disk standard output is redirected to is full; free some space (df -h) or redirect elsewhere."
        : "check where standard output is redirected to (a full or failing disk, a closed file)."
    }
  }
}
