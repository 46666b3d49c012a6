/// Why a DEFLATE or gzip stream could not be decoded.
enum InflateError: Error, Equatable {
  /// The data breaks the format; the reason says how.
  case corrupt(String)
  /// The data ends before the stream does.
  case truncated
  /// Writing more would exceed the output limit (not damage: the caller chose the limit).
  case outputLimitReached

  /// A short description, for messages.
  var reason: String {
    switch self {
    case .corrupt(let reason): return reason
    case .truncated: return "truncated: the data ends before the compressed stream does"
    case .outputLimitReached: return "the output limit was reached"
    }
  }
}

/// The DEFLATE length and distance tables of RFC 1951 §3.2.5.
enum Deflate {
  static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  static let lengthExtra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
  ]
  static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]
}
