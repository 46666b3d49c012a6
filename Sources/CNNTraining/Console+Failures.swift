// `@preconcurrency`: the C library's `stdout` is a global variable; it is only read here.
#if canImport(Glibc)
  @preconcurrency import Glibc
#elseif canImport(Musl)
  @preconcurrency import Musl
#elseif canImport(Darwin)
  @preconcurrency import Darwin
#endif

/// Standard output that silently lost lines is a wrong result: `cnn train --json > run.jsonl`
/// on a full disk must not exit 0 with an empty file. `Console.out` records the first failed
/// write, and `standardOutputFailure()` (called once, before a successful exit) flushes the C
/// library's buffer (`print`) and reports either failure. A closed pipe (`EPIPE`, as in
/// `cnn train --json | head -1`) is not an error: the reader has what it wanted.
extension Console {
  /// Remembers the first failed write to standard output (descriptor 1).
  static func recordFailure(_ code: Int32, descriptor: Int32) {
    guard descriptor == 1 else { return }
    failureLock.lock()
    if standardOutputErrno == 0 { standardOutputErrno = code }
    failureLock.unlock()
  }

  /// Flushes standard output and returns why writing to it failed, or `nil` when everything
  /// written reached it (or its reader closed the pipe).
  public static func standardOutputFailure() -> FileWriteError? {
    errno = 0
    let flushed = fflush(stdout) == 0
    let flushErrno = errno
    failureLock.lock()
    var code = standardOutputErrno
    failureLock.unlock()
    if code == 0 && !flushed {
      code = flushErrno
    }
    if code == 0 && ferror(stdout) != 0 {
      return .standardOutput(errno: 0)
    }
    guard code != 0, code != EPIPE else { return nil }
    return .standardOutput(errno: code)
  }

  /// Forgets a recorded failure (tests).
  static func resetStandardOutputFailure() {
    failureLock.lock()
    standardOutputErrno = 0
    failureLock.unlock()
    clearerr(stdout)
  }
}

nonisolated(unsafe) private var standardOutputErrno: Int32 = 0
/// A lock for `standardOutputErrno` (Foundation's `NSLock` would bring `stdout` back in
/// without `@preconcurrency`).
private let failureLock = PosixLock()

private final class PosixLock: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  init() { pthread_mutex_init(mutex, nil) }
  func lock() { pthread_mutex_lock(mutex) }
  func unlock() { pthread_mutex_unlock(mutex) }
}
