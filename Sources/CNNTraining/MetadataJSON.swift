import Foundation

/// JSON values inside safetensors metadata (whose values are strings): encoded compactly with
/// sorted keys, so the same value always gives the same bytes, and decoded with errors that
/// name the metadata key.
enum MetadataJSON {
  static func encode(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .throw
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      // Only non-finite floats fail, and a run configuration checks its numbers first.
      preconditionFailure("MetadataJSON: cannot encode \(type(of: value)): \(error)")
    }
  }

  static func decode<Value: Decodable>(_ type: Value.Type, from text: String, key: String) throws(CheckpointError) -> Value {
    do {
      return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
    } catch let error as DecodingError {
      throw .invalidMetadata(key: key, value: abbreviated(text), expected: "valid JSON for \(Value.self): \(reason(error))")
    } catch {
      throw .invalidMetadata(key: key, value: abbreviated(text), expected: "valid JSON for \(Value.self)")
    }
  }

  private static func abbreviated(_ text: String) -> String {
    text.count <= 120 ? text : String(text.prefix(117)) + "…"
  }

  private static func reason(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let names = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
      return names.isEmpty ? "" : " at " + names.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context): return "\(key.stringValue) is missing\(path(context))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      return context.debugDescription + path(context)
    @unknown default: return "\(error)"
    }
  }
}
