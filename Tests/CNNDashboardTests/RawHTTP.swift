import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A minimal HTTP/1.1 client over a plain socket, so that a test sends the request line
/// exactly as written (URLSession would normalise `/../` and `%2e%2e` away before sending).
enum RawHTTP {
  struct Response {
    var status: Int
    var head: String
    var body: String
  }

  struct Failure: Error, CustomStringConvertible { var description: String }

  /// Connects to `host:port` (IPv4), or throws with the system's reason.
  static func connect(host: String = "127.0.0.1", port: UInt16, timeoutSeconds: Int = 60) throws -> Int32 {
    #if canImport(Glibc)
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw Failure(description: "socket() failed") }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    inet_pton(AF_INET, host, &address.sin_addr)
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard result == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw Failure(description: "connect to \(host):\(port): \(reason)")
    }
    return fd
  }

  static func send(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n <= 0 { return }
      sent += n
    }
  }

  /// Reads until `done` says the bytes so far are enough, the peer closes, or the timeout passes.
  static func read(_ fd: Int32, until done: (String) -> Bool = { _ in false }) -> String {
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      data += buffer[0..<n]
      if done(String(decoding: data, as: UTF8.self)) { break }
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// Sends one request (`Connection: close`) with `target` written verbatim, and reads the whole answer.
  static func request(
    _ method: String, _ target: String, port: UInt16, headers: [String: String] = [:], body: String = ""
  ) throws -> Response {
    let fd = try connect(port: port)
    defer { close(fd) }
    var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    send(fd, text)
    return parse(read(fd))
  }

  static func parse(_ text: String) -> Response {
    let parts = text.components(separatedBy: "\r\n\r\n")
    let head = parts.first ?? ""
    let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return Response(status: status, head: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
  }
}
