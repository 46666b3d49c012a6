import FlyingFox
import FlyingSocks
import Foundation

/// The wire format of the dashboard's stream: server-sent events
/// (html.spec.whatwg.org/multipage/server-sent-events.html), one `data:` line per message.
public enum ServerSentEvents {
  /// One message as an event: `data: {…}\n\n`. A message with line breaks is split over
  /// several `data:` lines, which the browser joins back with `\n`.
  public static func frame(_ message: String) -> String {
    message.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)\n" }.joined() + "\n"
  }

  /// A comment line, which keeps an idle connection open and is ignored by the browser.
  public static let heartbeat = ": keep-alive\n\n"

  /// The messages of `stream`, framed, as an HTTP body that never ends until the stream does;
  /// a heartbeat is sent after `heartbeatSeconds` without a message.
  static func body(_ stream: AsyncStream<String>, heartbeatSeconds: Double = 10) -> HTTPBodySequence {
    HTTPBodySequence(from: FrameSequence(messages: stream, heartbeatSeconds: heartbeatSeconds))
  }

  /// Bytes of the framed messages, in the buffered form FlyingFox writes from.
  struct FrameSequence: AsyncBufferedSequence, Sendable {
    typealias Element = UInt8
    let messages: AsyncStream<String>
    let heartbeatSeconds: Double

    func makeAsyncIterator() -> Iterator { Iterator(frames: Self.frames(messages, heartbeatSeconds: heartbeatSeconds)) }

    /// The frames: each message, and heartbeats in between.
    static func frames(_ messages: AsyncStream<String>, heartbeatSeconds: Double) -> AsyncStream<String> {
      let (frames, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
      let forward = Task {
        for await message in messages { continuation.yield(frame(message)) }
        continuation.finish()
      }
      let beat = Task {
        while !Task.isCancelled {
          try? await Task.sleep(for: .seconds(heartbeatSeconds))
          continuation.yield(heartbeat)
        }
      }
      continuation.onTermination = { _ in
        forward.cancel()
        beat.cancel()
      }
      return frames
    }

    struct Iterator: AsyncBufferedIteratorProtocol {
      var frames: AsyncStream<String>.Iterator
      var pending: [UInt8] = []

      init(frames: AsyncStream<String>) { self.frames = frames.makeAsyncIterator() }

      mutating func next() async throws -> UInt8? {
        guard let buffer = try await nextBuffer(suggested: 1) else { return nil }
        return buffer.first
      }

      mutating func nextBuffer(suggested count: Int) async throws -> [UInt8]? {
        if pending.isEmpty {
          guard let frame = await frames.next() else { return nil }
          pending = Array(frame.utf8)
        }
        let taken = Array(pending.prefix(Swift.max(1, count)))
        pending.removeFirst(taken.count)
        return taken
      }
    }
  }
}
