import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A `cnn` command left running in the background (`cnn train --dashboard` serves until stopped).
final class BackgroundCommand {
  let process = Process()
  let stdoutURL: URL
  let stderrURL: URL

  init(_ arguments: [String], in directory: URL) throws {
    process.executableURL = try CNNExecutable.located()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    stdoutURL = directory.appendingPathComponent("cnn-stdout.txt")
    stderrURL = directory.appendingPathComponent("cnn-stderr.txt")
    _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
    process.standardError = try FileHandle(forWritingTo: stderrURL)
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  deinit { stop() }

  var stdout: String { String(decoding: (try? Data(contentsOf: stdoutURL)) ?? Data(), as: UTF8.self) }
  var stderr: String { String(decoding: (try? Data(contentsOf: stderrURL)) ?? Data(), as: UTF8.self) }

  /// Interrupts the command, as Ctrl-C does, and waits for it (at most 20 s, then kills it).
  /// - Returns: Whether the interrupt ended it.
  @discardableResult
  func stop() -> Bool {
    guard process.isRunning else { return true }
    process.interrupt()
    let deadline = Date().addingTimeInterval(20)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    guard process.isRunning else { return true }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    return false
  }

  /// Waits until `condition` holds for the output so far, at most `timeout` seconds.
  func wait(timeout: Double, for condition: (_ stdout: String, _ stderr: String) -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if condition(stdout, stderr) { return true }
      if !process.isRunning { return condition(stdout, stderr) }
      Thread.sleep(forTimeInterval: 0.2)
    }
    return false
  }

  /// The dashboard address the command printed (`http://127.0.0.1:PORT/?token=…`).
  func dashboardAddress(timeout: Double = 120) -> URL? {
    var found: URL?
    _ = wait(timeout: timeout) { out, err in
      for line in (out + err).split(separator: "\n") where line.hasPrefix("Dashboard: ") {
        found = URL(string: String(line.dropFirst("Dashboard: ".count)))
      }
      return found != nil
    }
    return found
  }
}

/// The status and body of one HTTP request, waited for.
func http(_ method: String, _ url: URL, body: String = "", headers: [String: String] = [:]) throws -> (Int, String) {
  var request = URLRequest(url: url)
  request.httpMethod = method
  request.httpBody = Data(body.utf8)
  for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
  let done = DispatchSemaphore(value: 0)
  nonisolated(unsafe) var result: (Int, String)?
  nonisolated(unsafe) var failure: (any Error)?
  URLSession.shared.dataTask(with: request) { data, response, error in
    if let error { failure = error }
    result = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
    done.signal()
  }.resume()
  guard done.wait(timeout: .now() + 30) == .success else { throw CLIHarnessError(description: "\(method) \(url) timed out") }
  if let failure { throw failure }
  return result ?? (0, "")
}

/// `cnn train --dashboard` and `cnn dashboard` as a user runs them.
@Suite(.serialized) struct DashboardCommandTests {
  /// The address's parts: the server's root and the token.
  static func parts(_ address: URL) throws -> (root: URL, token: String) {
    let components = try #require(URLComponents(url: address, resolvingAgainstBaseURL: false))
    let token = try #require(components.queryItems?.first { $0.name == "token" }?.value)
    var root = components
    root.query = nil
    root.path = "/"
    return (try #require(root.url), token)
  }

  /// The page in headless Chromium, mid-training: the charts hold data, the activations are
  /// images, the predictions grid is filled, the page's Pause button pauses the run; a
  /// screenshot is saved (also to `$CNN_DASHBOARD_SCREENSHOT`, when set).
  @Test(.enabled(if: HeadlessChromium.executable != nil, "chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"))
  func chromiumShowsTheRunLearning() throws {
    try withTemporaryDirectory { directory in
      let run = try BackgroundCommand(
        ["train", "--dashboard", "--port", "0", "--epochs", "6", "--checkpoint", "run.safetensors"], in: directory)
      defer { run.stop() }
      let address = try #require(run.dashboardAddress(), "no address printed:\n\(run.stdout)\(run.stderr)")
      #expect(address.host == "127.0.0.1")
      let browser = try HeadlessChromium(in: directory)
      defer { browser.close() }
      try browser.open(address.absoluteString)
      let steps = 20
      let rendered = try browser.wait(
        until: """
          Number(document.getElementById('loss-chart').dataset.points) >= \(steps)
            && document.querySelectorAll('#predictions .cell').length > 0
            && [...document.querySelectorAll('#stats tbody tr')].length > 0
          """, timeout: 480)
      #expect(rendered, "the page did not show \(steps) steps, predictions and statistics; cnn said:\n\(run.stdout)\(run.stderr)")
      guard rendered else { return }
      let facts = try #require(
        try browser.evaluate(
          """
          ({
            lossPoints: Number(document.getElementById('loss-chart').dataset.points),
            layerRows: document.querySelectorAll('#layers tbody tr').length,
            tiles: [...document.querySelectorAll('#layers img.tiles')].filter(i => i.complete && i.naturalWidth > 0 && i.src.startsWith('data:image/png')).length,
            filters: [...document.querySelectorAll('#filters img')].filter(i => i.naturalWidth > 0).length,
            cells: document.querySelectorAll('#predictions .cell').length,
            cellImages: [...document.querySelectorAll('#predictions .cell img')].filter(i => i.naturalWidth > 0).length,
            cellBars: document.querySelectorAll('#predictions .cell .bar').length,
            status: document.getElementById('status').textContent,
            drawable: !document.getElementById('draw-panel').hidden,
          })
          """) as? [String: Any])
      #expect((facts["lossPoints"] as? Int ?? 0) >= steps, "\(facts)")
      #expect(facts["layerRows"] as? Int == 7, "\(facts)")  // simple-convnet's seven layers
      #expect((facts["tiles"] as? Int ?? 0) >= 3, "\(facts)")  // conv, ReLU and pool maps as images
      #expect(facts["filters"] as? Int == 1, "\(facts)")
      #expect(facts["cells"] as? Int == 16 && facts["cellImages"] as? Int == 16, "\(facts)")
      #expect(facts["cellBars"] as? Int == 48, "\(facts)")  // three classes each
      #expect(facts["drawable"] as? Bool == true, "\(facts)")

      let screenshot = try browser.screenshot()
      let file = directory.appendingPathComponent("dashboard.png")
      try screenshot.write(to: file)
      #expect(isPNG(file))
      if let copy = ProcessInfo.processInfo.environment["CNN_DASHBOARD_SCREENSHOT"] {
        try screenshot.write(to: URL(fileURLWithPath: copy))
      }

      // A digit drawn on the canvas is sent and answered while the run trains: three classes
      // and the activations of the drawing.
      _ = try browser.evaluate(
        """
        (() => { const c = document.getElementById('draw').getContext('2d');
          c.strokeStyle = '#fff'; c.lineWidth = 16; c.lineCap = 'round';
          c.beginPath(); c.moveTo(112, 30); c.lineTo(112, 194); c.stroke(); sendDrawing(); return true; })()
        """)
      #expect(
        try browser.wait(
          until: """
            document.querySelectorAll('#draw-result .bar').length === 3
              && [...document.querySelectorAll('#draw-activations img')].filter(i => i.naturalWidth > 0).length >= 3
            """, timeout: 120), "the drawing was not answered")

      // The page's own Pause button (it sends the token from its address).
      _ = try browser.evaluate("document.getElementById('pause').click()")
      #expect(try browser.wait(until: "document.getElementById('status').dataset.state === 'paused'", timeout: 60))
      _ = try browser.evaluate("document.getElementById('resume').click()")
      #expect(try browser.wait(until: "document.getElementById('status').dataset.state === 'training'", timeout: 60))
      #expect(run.process.isRunning)
      #expect(run.stop(), "Ctrl-C (SIGINT) did not end `cnn train --dashboard`")
    }
  }

  /// Pause through the control endpoint: no step runs while paused (the `--json` stream shows
  /// a `paused` event and then no `batch` line for two seconds), and training goes on after
  /// resume. Without the token the same request is refused and changes nothing.
  @Test func pauseThenResumeHoldsTraining() throws {
    try withTemporaryDirectory { directory in
      let run = try BackgroundCommand(["train", "--dashboard", "--port", "0", "--json", "--epochs", "6"], in: directory)
      defer { run.stop() }
      let address = try #require(run.dashboardAddress(), "no address printed:\n\(run.stderr)")
      let (root, token) = try Self.parts(address)
      func lines() -> [String] { run.stdout.split(separator: "\n").map(String.init) }
      func batches(_ lines: some Sequence<String>) -> Int { lines.filter { $0.hasPrefix("{\"event\":\"batch\"") }.count }
      #expect(run.wait(timeout: 240) { out, _ in batches(out.split(separator: "\n").map(String.init)) >= 3 })

      let (refused, _) = try http("POST", root.appendingPathComponent("control/pause"))
      #expect(refused == 403)
      let (wrong, _) = try http("POST", root.appendingPathComponent("control/pause"), headers: ["X-Dashboard-Token": "nope"])
      #expect(wrong == 403)

      let (status, _) = try http("POST", root.appendingPathComponent("control/pause"), headers: ["X-Dashboard-Token": token])
      #expect(status == 200)
      let paused = run.wait(timeout: 60) { out, _ in out.contains("{\"event\":\"control\",\"action\":\"paused\"") }
      #expect(paused, "no paused event:\n\(run.stdout.suffix(2000))")
      guard paused else { return }
      Thread.sleep(forTimeInterval: 2)
      let whilePaused = lines()
      let pausedAt = try #require(whilePaused.firstIndex { $0.hasPrefix("{\"event\":\"control\",\"action\":\"paused\"") })
      #expect(batches(whilePaused[(pausedAt + 1)...]) == 0, "steps ran while paused:\n\(whilePaused[pausedAt...].joined(separator: "\n"))")
      // A refused resume leaves it paused.
      #expect(try http("POST", root.appendingPathComponent("control/resume")).0 == 403)
      Thread.sleep(forTimeInterval: 0.5)
      #expect(batches(lines()[(pausedAt + 1)...]) == 0)

      let (resumed, _) = try http("POST", root.appendingPathComponent("control/resume"), headers: ["X-Dashboard-Token": token])
      #expect(resumed == 200)
      #expect(run.wait(timeout: 120) { out, _ in
        let all = out.split(separator: "\n").map(String.init)
        guard let at = all.firstIndex(where: { $0.hasPrefix("{\"event\":\"control\",\"action\":\"resumed\"") }) else { return false }
        return batches(all[(at + 1)...]) >= 2
      }, "training did not go on after resume:\n\(run.stdout.suffix(2000))")
      // Standard output stays JSON lines only: the address went to standard error.
      #expect(lines().allSatisfy { $0.hasPrefix("{\"event\":") })
      #expect(run.stop(), "Ctrl-C (SIGINT) did not end `cnn train --dashboard`")
    }
  }

  /// Another address than loopback needs --host and is warned about; a taken port moves on, said.
  @Test func otherAddressesAreWarnedAboutAndTakenPortsSaid() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let first = try BackgroundCommand(
        ["train", "--dashboard", "--port", "0", "--host", "0.0.0.0", "--epochs", "1"] + TrainingWorkflowTests.quick,
        in: directory)
      defer { first.stop() }
      let address = try #require(first.dashboardAddress(), "\(first.stdout)\(first.stderr)")
      #expect(first.stderr.contains("Warning: the dashboard listens on 0.0.0.0"))
      let port = try #require(address.port)
      let second = try BackgroundCommand(
        ["train", "--dashboard", "--port", "\(port)", "--epochs", "1"] + TrainingWorkflowTests.quick, in: directory)
      defer { second.stop() }
      let moved = try #require(second.dashboardAddress(), "\(second.stdout)\(second.stderr)")
      #expect(moved.port != port && moved.host == "127.0.0.1")
      #expect(second.stdout.contains("Port \(port) is in use; the dashboard uses port \(moved.port ?? 0) instead."))
      #expect(!second.stderr.contains("Warning"))
    }
  }

  /// `cnn dashboard RUN.jsonl --checkpoint FILE` serves a finished run: its events, its model's
  /// views, no controls (409), and a drawing is answered.
  @Test func aFinishedRunIsShownFromItsLog() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let train = try cnn(
        ["train", "--json", "--epochs", "2", "--checkpoint", "c.safetensors"] + TrainingWorkflowTests.quick,
        in: directory)
      #expect(train.exitCode == 0, "\(train)")
      try Data(train.stdout.utf8).write(to: directory.appendingPathComponent("run.jsonl"))
      let show = try BackgroundCommand(["dashboard", "run.jsonl", "--checkpoint", "c.safetensors", "--port", "0"], in: directory)
      defer { show.stop() }
      let address = try #require(show.dashboardAddress(), "\(show.stdout)\(show.stderr)")
      let (root, token) = try Self.parts(address)
      let header = ["X-Dashboard-Token": token]
      #expect(try http("POST", root.appendingPathComponent("control/pause"), headers: header).0 == 409)
      let pixels = "[" + Array(repeating: "0.5", count: 12 * 12).joined(separator: ",") + "]"
      let (status, body) = try http("POST", root.appendingPathComponent("predict"), body: pixels, headers: header)
      #expect(status == 200, "\(body)")
      #expect(body.contains("\"probabilities\":["))
      #expect(try http("POST", root.appendingPathComponent("predict"), body: "[1,2]", headers: header).0 == 400)
      #expect(try http("GET", root.appendingPathComponent("events")).0 == 403)
    }
  }

  @Test func aLogThatIsNotALogIsRefused() throws {
    try withTemporaryDirectory { directory in
      try Data("hello\n".utf8).write(to: directory.appendingPathComponent("run.jsonl"))
      let result = try cnn("dashboard", "run.jsonl", in: directory)
      #expect(result.exitCode != 0)
      #expect(result.stderr.contains("line 1 is not a training event"), "\(result)")
    }
  }
}
