import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Headless Chromium driven through the DevTools protocol over `--remote-debugging-pipe`
/// (JSON messages ending in a NUL byte on file descriptors 3 and 4, here two FIFOs), so a
/// test can load a page, read its DOM with JavaScript and take a screenshot.
final class HeadlessChromium: @unchecked Sendable {
  /// The browser on `PATH` (`chromium`, as Debian names it), or `nil`.
  static let executable: URL? = onPath(["chromium", "chromium-browser", "google-chrome"])

  /// The first of `names` found in a directory of `PATH`.
  static func onPath(_ names: [String]) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for directory in path.split(separator: ":") {
      for name in names {
        let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
      }
    }
    return nil
  }

  struct Failure: Error, CustomStringConvertible { var description: String }

  private let process = Process()
  private let input: FileHandle
  private let output: FileHandle
  private let condition = NSCondition()
  private var buffer: [UInt8] = []
  private var closed = false
  private var nextID = 0
  private var session: String?

  /// Starts the browser with its profile in `directory` (nothing is written elsewhere).
  init(in directory: URL, width: Int = 1400, height: Int = 1000) throws {
    guard let executable = Self.executable else { throw Failure(description: "chromium is not installed") }
    let toBrowser = directory.appendingPathComponent("to-browser").path
    let fromBrowser = directory.appendingPathComponent("from-browser").path
    for fifo in [toBrowser, fromBrowser] {
      guard mkfifo(fifo, 0o600) == 0 else { throw Failure(description: "mkfifo \(fifo) failed") }
    }
    guard let shell = Self.onPath(["sh"]) else { throw Failure(description: "no sh on PATH") }
    process.executableURL = shell
    process.arguments = [
      "-c", "exec \"$0\" \"$@\" 3<\"$TO_BROWSER\" 4>\"$FROM_BROWSER\"", executable.path,
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
      "--remote-debugging-pipe", "--window-size=\(width),\(height)",
      "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "about:blank",
    ]
    var environment = ProcessInfo.processInfo.environment
    environment["TO_BROWSER"] = toBrowser
    environment["FROM_BROWSER"] = fromBrowser
    environment["HOME"] = directory.path  // caches and settings stay in the test's folder
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // The shell opens its end for reading first, then the other for writing: open in that order.
    guard let input = FileHandle(forWritingAtPath: toBrowser), let output = FileHandle(forReadingAtPath: fromBrowser)
    else { throw Failure(description: "cannot open the DevTools pipes") }
    self.input = input
    self.output = output
    Thread.detachNewThread { [self] in
      while true {
        let data = output.availableData
        condition.withLock {
          if data.isEmpty { closed = true } else { buffer += data }
          condition.broadcast()
        }
        if data.isEmpty { return }
      }
    }
  }

  deinit { close() }

  func close() {
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
    }
  }

  /// Sends one DevTools command (to the page once one is open) and returns its `result`.
  @discardableResult
  func send(_ method: String, _ parameters: [String: Any] = [:], toPage: Bool = true, timeout: Double = 30) throws
    -> [String: Any]
  {
    nextID += 1
    let id = nextID
    var message: [String: Any] = ["id": id, "method": method, "params": parameters]
    if toPage, let session { message["sessionId"] = session }
    input.write(try JSONSerialization.data(withJSONObject: message) + Data([0]))
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    defer { condition.unlock() }
    while true {
      while let end = buffer.firstIndex(of: 0) {
        let line = Array(buffer[..<end])
        buffer.removeSubrange(...end)
        guard let reply = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
          reply["id"] as? Int == id
        else { continue }
        if let error = reply["error"] { throw Failure(description: "\(method): \(error)") }
        return reply["result"] as? [String: Any] ?? [:]
      }
      if closed { throw Failure(description: "the browser closed its pipe during \(method)") }
      guard condition.wait(until: deadline) else { throw Failure(description: "\(method) got no answer in \(timeout) s") }
    }
  }

  /// Opens `url` in a new page, which later commands address.
  func open(_ url: String) throws {
    let target = try send("Target.createTarget", ["url": url], toPage: false)
    guard let id = target["targetId"] as? String else { throw Failure(description: "no target for \(url)") }
    let attached = try send("Target.attachToTarget", ["targetId": id, "flatten": true], toPage: false)
    session = attached["sessionId"] as? String
  }

  /// The value of a JavaScript expression in the page (JSON-like values).
  func evaluate(_ expression: String) throws -> Any? {
    let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true])
    if let exception = result["exceptionDetails"] { throw Failure(description: "\(expression): \(exception)") }
    return (result["result"] as? [String: Any])?["value"]
  }

  /// Evaluates `expression` every half second until it is `true`, at most `timeout` seconds
  /// (an exception, as before the page has loaded, counts as not yet).
  func wait(until expression: String, timeout: Double) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if (try? evaluate(expression)) as? Bool == true { return true }
      Thread.sleep(forTimeInterval: 0.5)
    }
    return false
  }

  /// A PNG of the page as it is drawn now (the whole page when `fullPage`).
  func screenshot() throws -> Data {
    let result = try send("Page.captureScreenshot", ["format": "png"])
    guard let text = result["data"] as? String, let data = Data(base64Encoded: text) else {
      throw Failure(description: "no screenshot")
    }
    return data
  }
}
