import CNNTensor

/// One JSON object written on one line, with its keys in the order given.
///
/// Training events are flat records of numbers and strings, so a small writer keeps the
/// key order stable (`event` first) and numbers exact, without a general encoder.
public struct JSONLine: CustomStringConvertible, Sendable {
  /// A JSON value that a flat record can hold.
  public enum Value: Sendable {
    case string(String)
    case integer(Int)
    case number(Double)
    /// Printed with `Float`'s shortest round-tripping digits (`0.965`, not `0.9649999737739563`).
    case float(Float)
    case null
  }

  public private(set) var fields: [(key: String, value: Value)] = []

  public init() {}

  /// Appends a field.
  public mutating func append(_ key: String, _ value: Value) { fields.append((key, value)) }
  public mutating func append(_ key: String, _ value: String) { append(key, .string(value)) }
  public mutating func append(_ key: String, _ value: Int) { append(key, .integer(value)) }
  public mutating func append(_ key: String, _ value: Double) { append(key, .number(value)) }
  public mutating func append(_ key: String, _ value: Float) { append(key, .float(value)) }
  public mutating func append(_ key: String, _ value: Float?) { append(key, value.map { .float($0) } ?? .null) }

  /// `{"event":"epoch","epoch":3,…}`.
  public var description: String {
    "{" + fields.map { "\(JSONText.quoted($0.key)):\(Self.render($0.value))" }.joined(separator: ",") + "}"
  }

  static func render(_ value: Value) -> String {
    switch value {
    case .string(let text): return JSONText.quoted(text)
    case .integer(let number): return String(number)
    case .number(let number):
      return number.isFinite ? String(number) : nonFinite(number.isNaN, number > 0)
    case .float(let number):
      return number.isFinite ? String(number) : nonFinite(number.isNaN, number > 0)
    case .null: return "null"
    }
  }

  /// JSON has no NaN or infinity: they are written as the strings JavaScript would print.
  static func nonFinite(_ isNaN: Bool, _ positive: Bool) -> String {
    isNaN ? "\"NaN\"" : (positive ? "\"Infinity\"" : "\"-Infinity\"")
  }
}
