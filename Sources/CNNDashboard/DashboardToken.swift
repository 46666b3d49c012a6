import Foundation

/// The per-run secret that the dashboard's address carries (`?token=…`). Without it a request
/// for the run's data or controls is refused (403), so that another local user, or a web page
/// open in the same browser, can neither watch nor pause, steer or stop the run.
public struct DashboardToken: Sendable, Equatable, CustomStringConvertible {
  /// 32 lowercase hex digits (128 random bits).
  public let value: String

  /// A new random token, from the system's random source.
  public init() {
    var generator = SystemRandomNumberGenerator()
    value = (0..<2).map { _ in
      let bits = generator.next() as UInt64
      let hex = String(bits, radix: 16)
      return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
  }

  /// A given token (tests).
  public init(_ value: String) {
    precondition(!value.isEmpty, "a dashboard token cannot be empty")
    self.value = value
  }

  public var description: String { value }

  /// Whether `candidate` is this token, comparing every byte whatever the first difference,
  /// so the time taken does not tell how much of a guess was right.
  public func matches(_ candidate: String?) -> Bool {
    guard let candidate else { return false }
    let a = Array(value.utf8), b = Array(candidate.utf8)
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for index in 0..<a.count { difference |= a[index] ^ (index < b.count ? b[index] : 0) }
    return difference == 0
  }
}
