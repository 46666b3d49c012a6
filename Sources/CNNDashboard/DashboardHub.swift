import Foundation

/// Where a dashboard's messages meet its pages: the training thread publishes JSON objects,
/// each connected page receives them in order, and a page that connects late first receives
/// what it missed (the run's events so far and the latest snapshot).
///
/// Publishing never blocks on a page: each subscriber has a bounded buffer
/// (``bufferLimit`` messages) that drops its oldest messages when a page falls behind.
public final class DashboardHub: @unchecked Sendable {
  /// What a late page is sent of a message.
  public enum Retention: Sendable {
    /// Kept and replayed to every page that connects later (training events, epoch results).
    case history
    /// Only the newest message of this kind is replayed (snapshots).
    case latest(String)
    /// Sent to the pages connected now only.
    case none
  }

  /// Messages a slow page may have waiting before its oldest are dropped.
  public let bufferLimit: Int
  /// The most messages kept for replay; beyond it, `batch` events are no longer kept (epochs are).
  public let historyLimit: Int

  private let lock = NSLock()
  private var history: [String] = []
  private var latest: [(kind: String, message: String)] = []
  private var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
  private var nextID = 0

  public init(bufferLimit: Int = 20_000, historyLimit: Int = 200_000) {
    self.bufferLimit = bufferLimit
    self.historyLimit = historyLimit
  }

  /// Pages connected now.
  public var subscriberCount: Int { lock.withLock { subscribers.count } }

  /// The messages a page that connects now is sent first, in order.
  public var replay: [String] { lock.withLock { history + latest.map(\.message) } }

  /// Sends `message` (one JSON object, no newline) to every connected page.
  public func publish(_ message: String, retention: Retention = .history, droppable: Bool = false) {
    precondition(!message.contains("\n"), "a dashboard message is one line of JSON")
    lock.withLock {
      switch retention {
      case .history:
        if history.count < historyLimit || !droppable { history.append(message) }
      case .latest(let kind):
        if let index = latest.firstIndex(where: { $0.kind == kind }) {
          latest[index].message = message
        } else {
          latest.append((kind, message))
        }
      case .none:
        break
      }
      for continuation in subscribers.values { continuation.yield(message) }
    }
  }

  /// A stream of messages for one page: the replay, then every message published from now on,
  /// until ``finish()`` or until the page goes away (the stream's consumer is cancelled).
  public func subscribe() -> AsyncStream<String> {
    let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(bufferLimit))
    lock.withLock {
      for message in history + latest.map(\.message) { continuation.yield(message) }
      let id = nextID
      nextID += 1
      subscribers[id] = continuation
      continuation.onTermination = { [weak self] _ in
        guard let self else { return }
        _ = self.lock.withLock { self.subscribers.removeValue(forKey: id) }
      }
    }
    return stream
  }

  /// Ends every page's stream (the server is stopping).
  public func finish() {
    let current = lock.withLock {
      defer { subscribers.removeAll() }
      return Array(subscribers.values)
    }
    for continuation in current { continuation.finish() }
  }
}
