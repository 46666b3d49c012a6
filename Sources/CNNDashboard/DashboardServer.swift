import CNNTraining
import FlyingFox
import FlyingSocks
import Foundation

/// A failure to start the dashboard's server, said so that the user can fix it.
public struct DashboardServerError: Error, CustomStringConvertible, Sendable {
  public var description: String
}

/// The dashboard's HTTP server (FlyingFox): the page, the stream of training events and
/// snapshots (`GET /events`, server-sent events), and the run's controls.
///
/// | Request | Token | What it does |
/// |---|---|---|
/// | `GET /`, `/index.html`, `/dashboard.js`, `/dashboard.css` | no | the page |
/// | `GET /events?token=…` | yes | the stream |
/// | `POST /control/pause`, `/control/resume` | yes | holds / releases the run before its next step |
/// | `POST /control/stop` | yes | stops at the end of the epoch (evaluated and saved) |
/// | `POST /control/learning-rate` (body: the rate) | yes | trains with that rate from the next step |
/// | `POST /predict` (body: JSON array of pixels in [0, 1]) | yes | the model's answer for a drawing |
///
/// The token comes in the query (`?token=…`) or the `X-Dashboard-Token` header. Anything else
/// is 404; a wrong or missing token is 403.
public final class DashboardServer: @unchecked Sendable {
  public let hub: DashboardHub
  public let token: DashboardToken
  /// The run's controls, or `nil` for a finished run (the control requests then answer 409).
  public let control: TrainingControl?
  /// Runs a drawing through the model, or `nil` when there is no model.
  public let predict: (@Sendable ([Float]) async -> DrawingPrediction)?
  /// Pixels a drawing must have (`C·H·W`).
  public let drawingSize: Int

  private var server: HTTPServer?
  private var task: Task<Void, Never>?
  /// Where the server's tasks run: a thread of its own, so that the page is served even while
  /// Swift's shared pool of threads is busy (in a test process, with other tests' work).
  private let executor = ServerExecutor()

  public init(
    hub: DashboardHub, token: DashboardToken = DashboardToken(), control: TrainingControl?,
    drawingSize: Int = 0, predict: (@Sendable ([Float]) async -> DrawingPrediction)? = nil
  ) {
    self.hub = hub
    self.token = token
    self.control = control
    self.drawingSize = drawingSize
    self.predict = predict
  }

  /// The loopback address, the only one bound unless asked otherwise.
  public static let loopback = "127.0.0.1"

  /// Whether `host` is a loopback address (`127.x.x.x` or `::1`).
  public static func isLoopback(_ host: String) -> Bool {
    host == "::1" || host == "localhost" || host.hasPrefix("127.")
  }

  /// Starts listening on `host` at `port` (0: a free port the system picks), or, when that
  /// port is taken, on the next free one of the `nextPorts` after it.
  ///
  /// - Returns: The port listened on.
  /// - Throws: `DashboardServerError` saying which ports were taken, or why the address is refused.
  @discardableResult
  public func start(host: String = DashboardServer.loopback, port: UInt16, nextPorts: Int = 0) async throws -> UInt16 {
    try await withTaskExecutorPreference(executor) {
      try await listen(host: host, port: port, nextPorts: nextPorts)
    }
  }

  private func listen(host: String, port: UInt16, nextPorts: Int) async throws -> UInt16 {
    let bindHost = host == "localhost" ? Self.loopback : host
    var taken: [UInt16] = []
    let last = port == 0 ? 0 : UInt16(min(Int(UInt16.max), Int(port) + max(0, nextPorts)))
    for candidate in port...last {
      let address: any SocketAddress
      do {
        address = bindHost.contains(":")
          ? try sockaddr_in6.inet6(ip6: bindHost, port: candidate) : try sockaddr_in.inet(ip4: bindHost, port: candidate)
      } catch {
        throw DashboardServerError(description: "\(host) is not an IP address (give one such as 127.0.0.1 or ::1).")
      }
      let server = HTTPServer(address: address, timeout: 30, logger: .disabled, handler: Handler(owner: self))
      let failure = FailureBox()
      let task = Task(executorPreference: executor) {
        do { try await server.run() } catch { failure.set(error) }
      }
      let deadline = ContinuousClock.now + .seconds(10)
      while ContinuousClock.now < deadline {
        if await server.isListening, let bound = await server.listeningAddress {
          self.server = server
          self.task = task
          switch bound {
          case .ip4(_, let port), .ip6(_, let port): return port
          default: return candidate
          }
        }
        if let error = failure.error {
          if case SocketError.failed(_, let code, _) = error, code == EADDRINUSE {
            taken.append(candidate)
            break
          }
          throw DashboardServerError(description: "cannot listen on \(host):\(candidate): \(error)")
        }
        try await Task.sleep(for: .milliseconds(5))
      }
      if failure.error == nil {
        task.cancel()
        throw DashboardServerError(description: "the server on \(host):\(candidate) did not start within 10 s")
      }
    }
    let list = taken.map(String.init).joined(separator: ", ")
    throw DashboardServerError(
      description: "port\(taken.count > 1 ? "s" : "") \(list) \(taken.count > 1 ? "are" : "is") in use on \(host); "
        + "choose another with --port N (or --port 0 for any free port).")
  }

  /// The address listened on (`127.0.0.1`), once started.
  public var boundHost: String? {
    get async {
      guard let server, let address = await server.listeningAddress else { return nil }
      switch address {
      case .ip4(let host, _), .ip6(let host, _): return host
      default: return nil
      }
    }
  }

  /// Closes the streams and stops listening.
  public func stop() async {
    hub.finish()
    await server?.stop(timeout: 1)
    task?.cancel()
  }

  // MARK: - Requests

  /// Runs the server's jobs one at a time on a serial dispatch queue (its own thread).
  final class ServerExecutor: TaskExecutor, @unchecked Sendable {
    let queue = DispatchQueue(label: "CNNDashboard.server")

    func enqueue(_ job: consuming ExecutorJob) {
      let job = UnownedJob(job)
      queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
  }

  final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ error: any Error) { lock.withLock { stored = error } }
  }

  struct Handler: HTTPHandler {
    let owner: DashboardServer

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
      try await owner.respond(to: request)
    }
  }

  static func text(_ status: HTTPStatusCode, _ body: String) -> HTTPResponse {
    HTTPResponse(
      statusCode: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
      body: Data((body + "\n").utf8))
  }

  static func json(_ value: some Encodable) -> HTTPResponse {
    let body = (try? JSONLines.encoder().encode(value)) ?? Data("{}".utf8)
    return HTTPResponse(
      statusCode: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: body)
  }

  func authorized(_ request: HTTPRequest) -> Bool {
    let header = request.headers[HTTPHeader("X-Dashboard-Token")]
    let query = request.query.first { $0.name == "token" }?.value
    return token.matches(header ?? query)
  }

  func respond(to request: HTTPRequest) async throws -> HTTPResponse {
    let path = request.path
    if request.method == .GET, let asset = DashboardAssets.asset(at: path) {
      return HTTPResponse(
        statusCode: .ok,
        headers: [
          .contentType: asset.contentType, .cacheControl: "no-store",
          HTTPHeader("X-Content-Type-Options"): "nosniff",
          HTTPHeader("Content-Security-Policy"): "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        ],
        body: asset.data)
    }
    let endpoints: Set<String> = [
      "/events", "/control/pause", "/control/resume", "/control/stop", "/control/learning-rate", "/predict",
    ]
    guard endpoints.contains(path) else { return Self.text(.notFound, "not found") }
    guard authorized(request) else {
      return Self.text(.forbidden, "this needs the run's token: open the address that the command printed")
    }
    switch (request.method, path) {
    case (.GET, "/events"):
      return HTTPResponse(
        statusCode: .ok,
        headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .connection: "keep-alive"],
        body: ServerSentEvents.body(hub.subscribe()))
    case (.POST, "/predict"):
      guard let predict else { return Self.text(.conflict, "no model to run: pass --checkpoint") }
      let body = try await request.bodyData
      guard body.count < 1_000_000, let pixels = try? JSONDecoder().decode([Float].self, from: body),
        pixels.count == drawingSize, pixels.allSatisfy({ $0.isFinite })
      else { return Self.text(.badRequest, "expected a JSON array of \(drawingSize) numbers in [0, 1]") }
      return Self.json(await predict(pixels.map { min(1, max(0, $0)) }))
    case (.POST, _):
      guard let control else { return Self.text(.conflict, "this run has finished: it has no controls") }
      switch path {
      case "/control/pause": control.pause()
      case "/control/resume": control.resume()
      case "/control/stop": control.requestStop(atEpochEnd: true)
      default:
        let text = String(decoding: try await request.bodyData.prefix(64), as: UTF8.self)
        guard let rate = Float(text.trimmingCharacters(in: .whitespacesAndNewlines)), rate > 0, rate <= 1e6,
          rate.isFinite
        else { return Self.text(.badRequest, "expected a learning rate: a positive number, such as 0.001") }
        control.requestLearningRate(rate)
      }
      return Self.text(.ok, "ok")
    default:
      return Self.text(.methodNotAllowed, "method not allowed")
    }
  }
}
