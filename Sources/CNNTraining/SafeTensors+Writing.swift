import CNNTensor
import Foundation

extension SafeTensors {
  /// The header for F32 tensors laid out one after another in the order given: the 8-byte
  /// length, then compact JSON (`__metadata__` first, its keys sorted, when there is any),
  /// padded with spaces to a multiple of 8 bytes as the reference implementation pads it, so
  /// the data starts aligned.
  static func header(for tensors: [(name: String, shape: Shape)], metadata: [String: String]) -> [UInt8] {
    var json = "{"
    var members: [String] = []
    if !metadata.isEmpty {
      let entries = metadata.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)):\(JSONText.quoted($0.value))" }
      members.append("\"__metadata__\":{" + entries.joined(separator: ",") + "}")
    }
    var offset = 0
    var names: Set<String> = ["__metadata__"]
    for (name, shape) in tensors {
      precondition(names.insert(name).inserted, "SafeTensors: the tensor name \"\(name)\" is used twice or reserved")
      let end = offset + shape.scalarCount * DType.float32.byteCount
      let dimensions = shape.dimensions.map(String.init).joined(separator: ",")
      members.append("\(JSONText.quoted(name)):{\"dtype\":\"F32\",\"shape\":[\(dimensions)],\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    json += members.joined(separator: ",") + "}"
    var bytes = Array(json.utf8)
    bytes += [UInt8](repeating: UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8)
    let length = UInt64(bytes.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + bytes
  }

  /// A whole safetensors file holding `tensors` as F32, in the order given, and `metadata`.
  public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) -> [UInt8] {
    var bytes = header(for: tensors.map { ($0.name, $0.tensor.shape) }, metadata: metadata)
    for (_, tensor) in tensors {
      bytes += tensor.withUnsafeBufferPointer { encodeFloat32($0) }
    }
    return bytes
  }

  /// Writes `tensors` as F32, in the order given, with `metadata`, to `url` atomically
  /// (see `AtomicFile`): the previous file stays whole if anything fails.
  ///
  /// The tensors are converted one at a time, so the file is never held in memory whole.
  public static func write(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
  ) throws(CheckpointError) {
    let header = header(for: tensors.map { ($0.name, $0.tensor.shape) }, metadata: metadata)
    do {
      try AtomicFile.write(to: url) { writer in
        try writer.write(header)
        for (_, tensor) in tensors {
          try writer.write(tensor.withUnsafeBufferPointer { encodeFloat32($0) })
        }
      }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw .fileSystem(operation: "write", path: url.path, reason: "\(error)")
    }
  }
}
