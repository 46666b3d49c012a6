import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The temporary files `AtomicFile` is writing in this process, removed when the process exits
/// normally (`atexit`) or on SIGINT, SIGTERM and SIGHUP, so an interrupted run leaves no
/// `.NAME.tmp-PID-RAND` behind. A `kill -9` cannot be caught: such files are removed by the
/// next write into the same directory (`removeStale(in:name:)`), once their process is gone.
///
/// The signal handler may only make async-signal-safe calls, so the paths live in a table of
/// C strings allocated once: registering copies the path into a free slot and then marks it
/// used; the handler `unlink`s every used slot, restores the default action and re-raises the
/// signal, so the process still ends as the signal says (exit status 128 + signal).
enum TemporaryFiles {
  /// Slots in the table; writes beyond this many at once are still atomic, only not removed
  /// on a signal.
  static let capacity = 64
  /// Bytes per slot (`PATH_MAX` on Linux).
  static let slotSize = 4096

  /// A registered path; pass it back to `unregister`.
  struct Registration {
    fileprivate let slot: Int?
  }

  /// Records `path` as in flight. Installs the exit and signal handlers on first use.
  static func register(_ path: String) -> Registration {
    _ = handlersInstalled
    let bytes = Array(path.utf8)
    guard bytes.count < slotSize, !bytes.contains(0) else { return Registration(slot: nil) }
    lock.lock()
    defer { lock.unlock() }
    for slot in 0..<capacity where slotInUse[slot] == 0 {
      let destination = slotPaths + slot * slotSize
      path.withCString { source in _ = memcpy(destination, source, bytes.count + 1) }
      // Marked used only once the path is whole: the handler never reads half a path.
      slotInUse[slot] = 1
      return Registration(slot: slot)
    }
    return Registration(slot: nil)
  }

  /// Forgets a path once it was renamed or removed.
  static func unregister(_ registration: Registration) {
    guard let slot = registration.slot else { return }
    lock.lock()
    slotInUse[slot] = 0
    lock.unlock()
  }

  /// The paths registered now (for tests).
  static var registeredPaths: [String] {
    lock.lock()
    defer { lock.unlock() }
    return (0..<capacity).filter { slotInUse[$0] != 0 }.map { String(cString: slotPaths + $0 * slotSize) }
  }

  /// Removes the temporary files left for `name` in `directory`: entries named exactly
  /// `.NAME.tmp-PID-RAND` (both numbers in decimal) whose process no longer exists
  /// (`kill(PID, 0)` fails with `ESRCH`), or whose PID is this process's but which this process
  /// is not writing (a container's main process has the same PID in every run). Files of live
  /// processes, and this process's writes in flight, are kept.
  ///
  /// - Returns: The names removed.
  @discardableResult
  static func removeStale(in directory: String, name: String) -> [String] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
    let prefix = "." + name + ".tmp-"
    let own = getpid()
    var removed: [String] = []
    for entry in entries where entry.hasPrefix(prefix) {
      let numbers = entry.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
      guard numbers.count == 2, numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
        let pid = pid_t(numbers[0]), UInt32(numbers[1]) != nil, pid > 0
      else { continue }
      let path = directory + "/" + entry
      if pid == own {
        guard !registeredPaths.contains(path) else { continue }
      } else {
        guard kill(pid, 0) == -1, errno == ESRCH else { continue }
      }
      if unlink(path) == 0 { removed.append(entry) }
    }
    return removed
  }

  private static let lock = NSLock()
}

/// The table the signal handler reads: `capacity` C strings of `slotSize` bytes, and one
/// in-use flag per slot. Globals, allocated once and never freed, so the handler (a C function
/// pointer, which captures nothing) can reach them without allocating.
nonisolated(unsafe) private let slotPaths: UnsafeMutablePointer<CChar> = {
  let table = UnsafeMutablePointer<CChar>.allocate(capacity: TemporaryFiles.capacity * TemporaryFiles.slotSize)
  table.initialize(repeating: 0, count: TemporaryFiles.capacity * TemporaryFiles.slotSize)
  return table
}()

nonisolated(unsafe) private let slotInUse: UnsafeMutablePointer<Int32> = {
  let flags = UnsafeMutablePointer<Int32>.allocate(capacity: TemporaryFiles.capacity)
  flags.initialize(repeating: 0, count: TemporaryFiles.capacity)
  return flags
}()

/// Unlinks every registered temporary file; async-signal-safe (a loop and `unlink`).
private func removeRegisteredTemporaryFiles() {
  var slot = 0
  while slot < TemporaryFiles.capacity {
    if slotInUse[slot] != 0 { unlink(slotPaths + slot * TemporaryFiles.slotSize) }
    slot += 1
  }
}

/// The handler for SIGINT, SIGTERM and SIGHUP: clean up, then die of the same signal.
private func removeTemporaryFilesAndReraise(_ signalNumber: Int32) {
  removeRegisteredTemporaryFiles()
  signal(signalNumber, SIG_DFL)
  raise(signalNumber)
}

/// Installs the handlers once, when the first temporary file is registered. A signal that is
/// ignored (`nohup` ignores SIGHUP) or already has a handler is left alone.
private let handlersInstalled: Void = {
  // Touch the table so it exists before any handler can run.
  _ = slotPaths
  _ = slotInUse
  atexit { removeRegisteredTemporaryFiles() }
  for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
    var current = sigaction()
    guard sigaction(signalNumber, nil, &current) == 0, currentHandlerIsDefault(current) else { continue }
    var action = sigaction()
    #if canImport(Darwin)
      action.__sigaction_u.__sa_handler = removeTemporaryFilesAndReraise
    #else
      action.__sigaction_handler.sa_handler = removeTemporaryFilesAndReraise
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
    sigaction(signalNumber, &action, nil)
  }
}()

/// Whether `action` is the default disposition (`SIG_DFL`, a null handler).
private func currentHandlerIsDefault(_ action: sigaction) -> Bool {
  #if canImport(Darwin)
    let handler = action.__sigaction_u.__sa_handler
  #else
    let handler = action.__sigaction_handler.sa_handler
  #endif
  return handler == nil
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
