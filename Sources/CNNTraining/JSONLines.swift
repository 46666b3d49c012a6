import Foundation

/// Foundation's JSON encoder and decoder, set up the way CNNKit writes and reads JSON lines
/// (`cnn train --json`, `cnn evaluate --json`, `cnn benchmark --json`): one object per line,
/// keys sorted after a leading `event`, slashes unescaped, and NaN and infinities as the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"` (JSON has no such numbers).
///
/// Foundation's encoder does not keep keys in the order they were encoded (on Linux the order
/// changes from run to run), so keys are sorted, and ``line(event:_:)`` puts `event` first by
/// writing it before the encoded value's keys.
public enum JSONLines {
  /// An encoder writing one line, keys sorted, slashes unescaped, non-finite numbers as strings.
  public static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return encoder
  }

  /// A decoder reading what ``encoder()`` writes.
  public static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
  }

  /// `value` as one JSON object on one line (no newline) with `"event":"<event>"` first:
  /// `{"event":"epoch","epoch":3,…}`. `event` must not need escaping (it is an identifier).
  public static func line(event: String, _ value: some Encodable) -> String {
    let object: String
    do {
      object = String(decoding: try encoder().encode(value), as: UTF8.self)
    } catch {
      // Only a value that cannot be JSON at all (a non-object payload) gets here.
      return "{\"event\":\"\(event)\",\"error\":\"cannot encode \(type(of: value)) as JSON\"}"
    }
    let members = object.dropFirst()  // after "{"
    return "{\"event\":\"\(event)\"" + (members == "}" ? "}" : "," + members)
  }
}

extension TrainingEvent {
  /// The event as one JSON line (no newline), `event` first and the other keys sorted:
  /// `{"event":"epoch","epoch":3,"evaluation_seconds":0.1,…,"train_loss":0.125}`.
  public var jsonLine: String { JSONLines.line(event: kind, payload) }

  /// Decodes one line of a JSON-lines training log.
  ///
  /// - Throws: `DecodingError` when the line is not such an event (see ``summary(of:)``).
  public init(jsonLine: some StringProtocol) throws {
    self = try JSONLines.decoder().decode(TrainingEvent.self, from: Data(jsonLine.utf8))
  }
}

extension JSONLines {
  /// A one-line explanation of a decoding failure that names the key at fault:
  /// `no "train_loss"`, `"seed" is not a number`, `not valid JSON`.
  public static func summary(of error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ keys: [any CodingKey]) -> String {
      keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop(while: { $0 == "." }).description
    }
    switch error {
    case .keyNotFound(let key, let context):
      let parent = path(context.codingPath)
      return "no \"\(key.stringValue)\"" + (parent.isEmpty ? "" : " in \"\(parent)\"")
    case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
      return "\"\(path(context.codingPath))\" is not \(describe(type))"
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty { return "not valid JSON" }
      let place = path(context.codingPath)
      return (place.isEmpty ? "" : "\"\(place)\": ") + context.debugDescription
    @unknown default:
      return "\(error)"
    }
  }

  private static func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Bool.Type: return "a boolean"
    case is Int.Type, is UInt64.Type, is Float.Type, is Double.Type: return "a number"
    default:
      let name = "\(type)"
      if name.hasPrefix("Array") { return "an array" }
      if name.hasPrefix("Dictionary") || name.contains("Key") { return "an object" }
      return "a \(name)"
    }
  }
}
