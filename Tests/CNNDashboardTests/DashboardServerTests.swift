import Foundation
import Testing

@testable import CNNDashboard
@testable import CNNTraining

/// The server's safety: loopback only by default, its own assets only, controls behind the
/// token, a clear answer when the port is taken. Each test runs a server in this process on a
/// port the system picks.
@Suite(.serialized) struct DashboardServerTests {
  static let token = DashboardToken("0123456789abcdef0123456789abcdef")

  static func started(control: TrainingControl? = TrainingControl()) async throws -> (DashboardServer, UInt16) {
    let server = DashboardServer(hub: DashboardHub(), token: token, control: control)
    let port = try await server.start(port: 0)
    return (server, port)
  }

  @Test func servesThePageAndItsAssets() async throws {
    let (server, port) = try await Self.started()
    defer { Task { await server.stop() } }
    let page = try RawHTTP.request("GET", "/", port: port)
    #expect(page.status == 200)
    #expect(page.body.contains("<script src=\"dashboard.js\"></script>"))
    #expect(page.head.lowercased().contains("content-type: text/html"))
    let script = try RawHTTP.request("GET", "/dashboard.js", port: port)
    #expect(script.status == 200 && script.body.contains("new EventSource"))
    #expect(try RawHTTP.request("GET", "/dashboard.css", port: port).status == 200)
  }

  /// Path traversal in every spelling gets 404, and never the file.
  @Test(arguments: [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/..%2f..%2f..%2fetc%2fpasswd",
    "//etc/passwd", "/dashboard.js/../../../../etc/passwd", "/./../index.html/../../etc/passwd", "/Package.swift",
    "/Resources/Page/index.html", "/etc/passwd", "/%00", "/index.html%00.js", "/..\\..\\etc\\passwd",
  ])
  func traversalRequestsGetNothing(target: String) async throws {
    let (server, port) = try await Self.started()
    defer { Task { await server.stop() } }
    let response = try RawHTTP.request("GET", target, port: port)
    #expect([400, 404].contains(response.status), "\(target): \(response.head)")
    #expect(!response.body.contains("root:"), "\(target) leaked a file")
    #expect(!response.body.contains("PackageDescription"), "\(target) leaked a file")
  }

  /// Without the token, or with a wrong one, the stream and every control answer 403 and
  /// leave the run alone; with it, they work.
  @Test func theControlsNeedTheToken() async throws {
    let control = TrainingControl()
    let (server, port) = try await Self.started(control: control)
    defer { Task { await server.stop() } }
    for path in ["/control/pause", "/control/stop", "/control/learning-rate", "/predict"] {
      #expect(try RawHTTP.request("POST", path, port: port, body: "0.1").status == 403, "\(path)")
      #expect(try RawHTTP.request("POST", path + "?token=guess", port: port, body: "0.1").status == 403, "\(path)")
      let wrongHeader = ["X-Dashboard-Token": "0123456789abcdef0123456789abcdee"]
      #expect(try RawHTTP.request("POST", path, port: port, headers: wrongHeader, body: "0.1").status == 403, "\(path)")
    }
    #expect(try RawHTTP.request("GET", "/events", port: port).status == 403)
    #expect(!control.isPaused && control.stopRequest == nil)

    let header = ["X-Dashboard-Token": Self.token.value]
    #expect(try RawHTTP.request("POST", "/control/pause", port: port, headers: header).status == 200)
    #expect(control.isPaused)
    #expect(try RawHTTP.request("POST", "/control/resume?token=\(Self.token)", port: port).status == 200)
    #expect(!control.isPaused)
    #expect(try RawHTTP.request("POST", "/control/learning-rate", port: port, headers: header, body: "-1").status == 400)
    #expect(try RawHTTP.request("POST", "/control/learning-rate", port: port, headers: header, body: "0.02").status == 200)
    #expect(control.takeLearningRateRequest() == 0.02)
    #expect(try RawHTTP.request("POST", "/control/stop", port: port, headers: header).status == 200)
    #expect(control.stopRequest == .atEpochEnd)
    #expect(try RawHTTP.request("GET", "/control/pause", port: port, headers: header).status == 405)
  }

  /// The stream is server-sent events: the replay first, then live messages, each framed.
  @Test func theStreamIsServerSentEvents() async throws {
    let (server, port) = try await Self.started()
    defer { Task { await server.stop() } }
    server.hub.publish(#"{"event":"started","n":1}"#)
    let fd = try RawHTTP.connect(port: port)
    defer { close(fd) }
    RawHTTP.send(fd, "GET /events?token=\(Self.token) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    let first = RawHTTP.read(fd) { $0.contains("\"n\":1}\n\n") }
    #expect(first.hasPrefix("HTTP/1.1 200"))
    #expect(first.lowercased().contains("content-type: text/event-stream"))
    #expect(first.contains("data: {\"event\":\"started\",\"n\":1}\n\n"))
    server.hub.publish(#"{"event":"batch","n":2}"#)
    let second = RawHTTP.read(fd) { $0.contains("\"n\":2}\n\n") }
    #expect(second.contains("data: {\"event\":\"batch\",\"n\":2}\n\n"))
  }

  /// By default the server listens on 127.0.0.1 only; the CLI's `--host` is needed for more.
  @Test func itBindsLoopbackByDefault() async throws {
    let (server, port) = try await Self.started()
    defer { Task { await server.stop() } }
    #expect(await server.boundHost == "127.0.0.1")
    #expect(port > 0)
    #expect(DashboardServer.isLoopback("127.0.0.1") && DashboardServer.isLoopback("::1"))
    #expect(!DashboardServer.isLoopback("0.0.0.0") && !DashboardServer.isLoopback("192.168.1.4"))
  }

  /// A taken port is said, with the fix; or the next free port is used when allowed.
  @Test func aTakenPortIsSaidOrSkipped() async throws {
    let (first, port) = try await Self.started()
    defer { Task { await first.stop() } }
    let second = DashboardServer(hub: DashboardHub(), token: Self.token, control: nil)
    await #expect {
      try await second.start(port: port, nextPorts: 0)
    } throws: { error in
      let text = "\(error)"
      return text.contains("port \(port) is in use") && text.contains("--port")
    }
    let third = DashboardServer(hub: DashboardHub(), token: Self.token, control: nil)
    let other = try await third.start(port: port, nextPorts: 20)
    defer { Task { await third.stop() } }
    #expect(other != port && other > port && other <= port + 20)
    #expect(try RawHTTP.request("GET", "/", port: other).status == 200)
  }

  /// An address that is not an IP address is refused with a message.
  @Test func aBadHostIsRefused() async throws {
    let server = DashboardServer(hub: DashboardHub(), token: Self.token, control: nil)
    await #expect {
      try await server.start(host: "not-an-address", port: 0)
    } throws: { error in "\(error)".contains("not an IP address") }
  }
}
