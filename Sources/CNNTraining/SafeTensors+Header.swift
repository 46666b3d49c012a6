import Foundation

/// One value of a safetensors header, as Foundation's `JSONDecoder` reads it.
///
/// Whole numbers that fit in `Int` are `.integer`, so offsets and shapes stay exact; every
/// other number is `.number`.
enum SafeTensorsHeaderValue: Decodable, Equatable, CustomStringConvertible {
  case object([String: SafeTensorsHeaderValue])
  case array([SafeTensorsHeaderValue])
  case string(String)
  case integer(Int)
  case number(Double)
  case bool(Bool)
  case null

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  init(from decoder: any Decoder) throws {
    if let object = try? decoder.container(keyedBy: Key.self) {
      var members: [String: SafeTensorsHeaderValue] = [:]
      for key in object.allKeys { members[key.stringValue] = try object.decode(Self.self, forKey: key) }
      self = .object(members)
    } else if var array = try? decoder.unkeyedContainer() {
      var elements: [SafeTensorsHeaderValue] = []
      while !array.isAtEnd { elements.append(try array.decode(Self.self)) }
      self = .array(elements)
    } else {
      let single = try decoder.singleValueContainer()
      if single.decodeNil() {
        self = .null
      } else if let value = try? single.decode(Bool.self) {
        self = .bool(value)
      } else if let value = try? single.decode(Int.self) {
        self = .integer(value)
      } else if let value = try? single.decode(Double.self) {
        self = .number(value)
      } else {
        self = .string(try single.decode(String.self))
      }
    }
  }

  /// A short description of the kind of value, for error messages.
  var kind: String {
    switch self {
    case .object: return "an object"
    case .array: return "an array"
    case .string: return "a string"
    case .integer, .number: return "a number"
    case .bool: return "a boolean"
    case .null: return "null"
    }
  }

  /// The value as it would be written in JSON, for error messages (`1.5`, `"x"`, `[…]`).
  var description: String {
    switch self {
    case .object: return "{…}"
    case .array: return "[…]"
    case .string(let text): return "\"\(text)\""
    case .integer(let value): return String(value)
    case .number(let value): return String(value)
    case .bool(let value): return String(value)
    case .null: return "null"
    }
  }

  /// Parses a header: UTF-8 JSON with no key twice in one object.
  ///
  /// - Throws: A message for ``CheckpointError/malformedHeader(_:)``.
  static func parse(_ header: ArraySlice<UInt8>) throws(SafeTensorsHeaderError) -> SafeTensorsHeaderValue {
    guard String(validating: header, as: UTF8.self) != nil else { throw .init("it is not valid UTF-8") }
    let value: SafeTensorsHeaderValue
    do {
      value = try JSONDecoder().decode(Self.self, from: Data(header))
    } catch {
      let detail = (error as? DecodingError).flatMap(Self.underlyingMessage) ?? "\(error)"
      throw .init("invalid JSON (\(detail))")
    }
    if let key = firstDuplicateKey(in: Array(header)) {
      throw .init("duplicate key \"\(key)\" (two entries under one name are ambiguous)")
    }
    return value
  }

  private static func underlyingMessage(_ error: DecodingError) -> String? {
    guard case .dataCorrupted(let context) = error else { return nil }
    if let underlying = context.underlyingError as NSError?,
      let text = underlying.userInfo[NSDebugDescriptionErrorKey] as? String
    {
      return text
    }
    return context.debugDescription
  }

  /// The first key that occurs twice in one object of `json`, which must be valid JSON
  /// (the decoder keeps one of the two values silently).
  static func firstDuplicateKey(in json: [UInt8]) -> String? {
    var open: [Set<String>?] = []  // one per enclosing container: the keys of an object, nil for an array
    var expectingKey = false
    var i = 0
    while i < json.count {
      switch json[i] {
      case UInt8(ascii: "{"):
        open.append([])
        expectingKey = true
      case UInt8(ascii: "["):
        open.append(nil)
        expectingKey = false
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        _ = open.popLast()
        expectingKey = false
      case UInt8(ascii: ","):
        expectingKey = open.last.map { $0 != nil } ?? false
      case UInt8(ascii: "\""):
        let start = i
        i += 1
        while i < json.count && json[i] != UInt8(ascii: "\"") { i += json[i] == UInt8(ascii: "\\") ? 2 : 1 }
        if expectingKey, !open.isEmpty, i < json.count {
          let token = json[start...i]
          let key =
            token.contains(UInt8(ascii: "\\"))
            ? (try? JSONDecoder().decode(String.self, from: Data(token))) ?? String(decoding: token, as: UTF8.self)
            : String(decoding: token.dropFirst().dropLast(), as: UTF8.self)
          if open[open.count - 1]?.insert(key).inserted == false { return key }
        }
        expectingKey = false
      default:
        break
      }
      i += 1
    }
    return nil
  }
}

/// Why a safetensors header could not be parsed.
struct SafeTensorsHeaderError: Error, Equatable {
  var message: String
  init(_ message: String) { self.message = message }
}
