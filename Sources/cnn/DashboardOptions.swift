import ArgumentParser
import CNNDashboard
import CNNKit
import Foundation

/// Where the dashboard listens: `--port`, `--host`.
struct DashboardOptions: ParsableArguments {
  @Option(help: "The dashboard's port (default 8080; if it is taken, the next free one of the 10 after it, said; 0: any free port).")
  var port: Int = 8080

  @Option(
    help: """
      The address the dashboard listens on (default 127.0.0.1: this machine only). Any other address (0.0.0.0, \
      a LAN address) lets other machines reach it, so it prints a warning; the controls still need the token.
      """)
  var host: String = DashboardServer.loopback

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0…65535 (got \(port)).") }
  }

  /// Starts `dashboard`'s server, printing its address (or the warning, the port change) to `say`.
  func start(_ dashboard: LiveDashboard, say: (String) -> Void) throws {
    Self.unblockInterrupts()
    if !DashboardServer.isLoopback(host) {
      Console.error(
        "Warning: the dashboard listens on \(host), not only on this machine: anyone who can reach it can watch "
          + "the run, and anyone who has the address with its token can pause or stop it.\n")
    }
    let result = Blocking.run { try await dashboard.server.start(host: host, port: UInt16(port), nextPorts: port == 0 ? 0 : 10) }
    let bound = try result.get()
    if port != 0 && Int(bound) != port { say("Port \(port) is in use; the dashboard uses port \(bound) instead.\n") }
    say("Dashboard: \(dashboard.address(host: host, port: bound))\n")
  }

  /// Lets Ctrl-C (and SIGTERM, SIGHUP) reach this thread even when the parent started `cnn` with
  /// them blocked (a thread of a Swift or Dispatch program blocks them, and a child inherits the
  /// mask): the dashboard serves until interrupted, so an interrupt must be able to end it.
  static func unblockInterrupts() {
    var set = sigset_t()
    sigemptyset(&set)
    for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, signal) }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }

  /// Keeps the process (and the server) alive until it is interrupted.
  static func serveForever(say: (String) -> Void) -> Never {
    say("The dashboard keeps serving; press Ctrl-C to stop.\n")
    while true { sleep(3600) }
  }
}

/// Runs async work from synchronous command code and waits for its result.
enum Blocking {
  static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let semaphore = DispatchSemaphore(value: 0)
    let box = Box<T>()
    Task {
      do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
      semaphore.signal()
    }
    semaphore.wait()
    return box.result ?? .failure(CancellationError())
  }

  final class Box<T>: @unchecked Sendable { var result: Result<T, any Error>? }
}
