import Foundation

/// The check every reader makes before it opens a file a user named: that it is a regular
/// file. A directory, a FIFO, a device or a socket would otherwise fail with a system message
/// that names none of them ("You don't have permission", "NSCocoaErrorDomain error 256"), or,
/// for `/dev/zero` or a FIFO nobody writes to, read forever.
public enum InputFile {
  /// What the path names when it is not a regular file (`"a directory"`, `"a FIFO (named
  /// pipe)"`, `"a character device"`), following symbolic links; `nil` for a regular file or
  /// a path that does not exist (the reader reports that itself).
  public static func kindProblem(at path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "a directory"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "not a regular file"
    }
  }

  /// `"it is a FIFO (named pipe), not a regular file"`, or `nil` for a regular file.
  public static func problem(at path: String) -> String? {
    kindProblem(at: path).map { $0 == "not a regular file" ? "it is not a regular file" : "it is \($0), not a regular file" }
  }
}
