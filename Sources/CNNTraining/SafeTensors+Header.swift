import Foundation

/// One value of a safetensors header, as Foundation's `JSONSerialization` reads it.
///
/// Whole numbers written without a fraction or exponent that fit in `Int` are `.integer`, so
/// offsets and shapes are exact (`4` is an integer, `4.0` is not, as in the reference
/// implementation); every other number is `.number`.
enum SafeTensorsHeaderValue: Equatable, CustomStringConvertible {
  case object([String: SafeTensorsHeaderValue])
  case array([SafeTensorsHeaderValue])
  case string(String)
  case integer(Int)
  case number(Double)
  case bool(Bool)
  case null

  /// The value of what `JSONSerialization` returns.
  init(_ value: Any) {
    switch value {
    case let number as NSNumber:
      // The number's storage type tells how it was written: `c` for true and false, `d` for
      // a fraction or exponent, an integer type otherwise (NSDecimalNumber when out of range).
      let type = String(cString: number.objCType)
      if type == "c" {
        self = .bool(number.boolValue)
      } else if number is NSDecimalNumber || type == "d" || type == "f" {
        self = .number(number.doubleValue)
      } else if type == "Q" && number.uint64Value > UInt64(Int.max) {
        self = .number(number.doubleValue)
      } else {
        self = .integer(number.intValue)
      }
    case let text as String: self = .string(text)
    case let object as [String: Any]: self = .object(object.mapValues(Self.init))
    case let array as [Any]: self = .array(array.map(Self.init))
    default: self = .null
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

  /// Parses a header: UTF-8 JSON with no key twice in one object and no trailing commas.
  ///
  /// - Throws: A message for ``CheckpointError/malformedHeader(_:)``.
  static func parse(_ header: ArraySlice<UInt8>) throws(SafeTensorsHeaderError) -> SafeTensorsHeaderValue {
    guard String(validating: header, as: UTF8.self) != nil else { throw .init("it is not valid UTF-8") }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: Data(header))
    } catch {
      let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
      throw .init("invalid JSON (\(detail))")
    }
    if let problem = strictnessProblem(in: Array(header)) { throw .init("invalid JSON (\(problem))") }
    return SafeTensorsHeaderValue(object)
  }

  /// What Foundation accepts but strict JSON does not: a key that occurs twice in one object
  /// (`JSONSerialization` keeps the last value silently), or a comma before `}` or `]`.
  /// `json` must be otherwise valid JSON.
  static func strictnessProblem(in json: [UInt8]) -> String? {
    var open: [Set<String>?] = []  // one per enclosing container: the keys of an object, nil for an array
    var expectingKey = false
    var previous: UInt8 = 0  // the last byte outside strings and whitespace
    var i = 0
    while i < json.count {
      let byte = json[i]
      switch byte {
      case UInt8(ascii: "{"):
        open.append([])
        expectingKey = true
      case UInt8(ascii: "["):
        open.append(nil)
        expectingKey = false
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        if previous == UInt8(ascii: ",") { return "a comma before '\(Character(Unicode.Scalar(byte)))' at byte \(i)" }
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
          if open[open.count - 1]?.insert(key).inserted == false { return "duplicate key \"\(key)\" at byte \(start)" }
        }
        expectingKey = false
      default:
        break
      }
      if byte != 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D { previous = json[min(i, json.count - 1)] }
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
