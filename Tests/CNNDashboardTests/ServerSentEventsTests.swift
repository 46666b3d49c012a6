import Foundation
import Testing

@testable import CNNDashboard

@Suite struct ServerSentEventsTests {
  @Test func oneMessageIsOneDataLineAndABlankLine() {
    #expect(ServerSentEvents.frame(#"{"event":"batch","loss":0.5}"#) == "data: {\"event\":\"batch\",\"loss\":0.5}\n\n")
  }

  @Test func aMessageWithLineBreaksSpansDataLines() {
    #expect(ServerSentEvents.frame("a\nb") == "data: a\ndata: b\n\n")
  }

  @Test func theHeartbeatIsAComment() {
    #expect(ServerSentEvents.heartbeat.hasPrefix(":"))
    #expect(ServerSentEvents.heartbeat.hasSuffix("\n\n"))
  }

  /// The body FlyingFox writes: the frames of the hub's messages, in order.
  @Test func theBodyCarriesTheFramesInOrder() async throws {
    let hub = DashboardHub()
    hub.publish(#"{"event":"started"}"#)
    let stream = hub.subscribe()
    hub.publish(#"{"event":"batch","batch":1}"#)
    hub.finish()
    var iterator = ServerSentEvents.FrameSequence(messages: stream, heartbeatSeconds: 60).makeAsyncIterator()
    var bytes: [UInt8] = []
    while let chunk = try await iterator.nextBuffer(suggested: 7) {
      #expect(chunk.count <= 7 && !chunk.isEmpty)
      bytes += chunk
      if bytes.count >= 60 { break }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text == "data: {\"event\":\"started\"}\n\ndata: {\"event\":\"batch\",\"batch\":1}\n\n")
  }
}

@Suite struct DashboardHubTests {
  /// A page that connects late first gets the history, then the newest snapshot, then what follows.
  @Test func aLatePageGetsTheHistoryThenTheLatestThenLiveMessages() async {
    let hub = DashboardHub()
    hub.publish("{\"n\":1}")
    hub.publish("{\"snapshot\":1}", retention: .latest("snapshot"))
    hub.publish("{\"snapshot\":2}", retention: .latest("snapshot"))
    hub.publish("{\"n\":2}")
    hub.publish("{\"gone\":1}", retention: .none)
    let stream = hub.subscribe()
    #expect(hub.subscriberCount == 1)
    hub.publish("{\"n\":3}")
    hub.finish()
    var received: [String] = []
    for await message in stream { received.append(message) }
    #expect(received == ["{\"n\":1}", "{\"n\":2}", "{\"snapshot\":2}", "{\"n\":3}"])
    #expect(hub.subscriberCount == 0)
  }

  /// Droppable messages (batch events) stop being kept once the history is full; others are kept.
  @Test func theHistoryIsBounded() {
    let hub = DashboardHub(historyLimit: 3)
    for i in 0..<5 { hub.publish("{\"batch\":\(i)}", droppable: true) }
    hub.publish("{\"epoch\":1}")
    #expect(hub.replay == ["{\"batch\":0}", "{\"batch\":1}", "{\"batch\":2}", "{\"epoch\":1}"])
  }

  /// A page that goes away is forgotten, so publishing does not keep filling its buffer.
  @Test func aCancelledPageIsRemoved() async throws {
    let hub = DashboardHub()
    let task = Task {
      for await _ in hub.subscribe() {}
    }
    for _ in 0..<100 where hub.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
    #expect(hub.subscriberCount == 1)
    task.cancel()
    for _ in 0..<100 where hub.subscriberCount > 0 { try await Task.sleep(for: .milliseconds(10)) }
    #expect(hub.subscriberCount == 0)
  }
}

@Suite struct DashboardTokenTests {
  @Test func tokensAreLongRandomAndCompareWhole() {
    let a = DashboardToken(), b = DashboardToken()
    #expect(a.value.count == 32 && a.value.allSatisfy(\.isHexDigit))
    #expect(a != b)
    #expect(a.matches(a.value))
    #expect(!a.matches(nil) && !a.matches("") && !a.matches(String(a.value.dropLast())) && !a.matches(a.value + "0"))
    #expect(!a.matches(b.value))
  }
}
