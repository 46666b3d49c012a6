import CNNTensor
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Refuses an output file that would destroy something the user keeps, before any work is done.
///
/// Two things are protected:
/// - the command's inputs: an output that is the same file as an input (same device and
///   inode, so `./a`, `a` and a link to `a` are all caught) is always refused;
/// - CNNKit checkpoints: a safetensors file whose metadata says `format: cnnkit` is not
///   replaced by something that is not a checkpoint (`cnn predict --output` logits), nor a
///   training checkpoint (with optimizer state) by weights alone (`cnn export`), unless
///   `force` is set.
///
/// Character devices and FIFOs are never refused: writing to them replaces nothing.
///
///     try OutputGuard.check(output: path, inputs: [checkpoint, input], writing: .other,
///                           force: force, forceOption: "--force")
public enum OutputGuard {
  /// What the command is about to write.
  public enum Content: Sendable {
    /// A CNNKit checkpoint with its training state (`cnn train --checkpoint`).
    case checkpoint
    /// A CNNKit checkpoint of weights alone (`cnn export`).
    case weights
    /// Anything else: logits, pictures, text.
    case other
  }

  /// Throws when writing `content` to `output` would replace one of `inputs` or a checkpoint.
  ///
  /// - Parameters:
  ///   - output: The output path as given.
  ///   - inputs: The paths the command reads (a missing one is ignored).
  ///   - content: What would be written.
  ///   - force: Whether replacing a checkpoint was asked for explicitly.
  ///   - forceOption: The flag that sets `force` (`--force`), named in the hint.
  /// - Throws: `FileWriteError.outputIsInput` or `.wouldReplaceCheckpoint`.
  public static func check(
    output: String, inputs: [String], writing content: Content, force: Bool = false, forceOption: String? = nil
  ) throws(FileWriteError) {
    var info = stat()
    guard stat(output, &info) == 0 else { return }  // nothing there yet (or unreachable: the write will say)
    let kind = FileKind(mode: UInt32(info.st_mode))
    guard kind == .regular else { return }
    for input in inputs {
      var inputInfo = stat()
      if stat(input, &inputInfo) == 0, inputInfo.st_dev == info.st_dev, inputInfo.st_ino == info.st_ino {
        throw .outputIsInput(output: output, input: input)
      }
    }
    guard !force, content != .checkpoint, let existing = checkpointKind(at: output) else { return }
    if content == .weights && existing == .weights { return }
    throw .wouldReplaceCheckpoint(
      path: output,
      existing: existing == .checkpoint
        ? "a CNNKit checkpoint with training state (optimizer state for --resume)" : "a CNNKit checkpoint",
      replacement: content == .weights ? "weights alone" : "something that is not a checkpoint",
      force: forceOption)
  }

  /// Whether the file at `path` is a CNNKit checkpoint (`.checkpoint` with training state,
  /// `.weights` without), from its header alone; `nil` for anything else or an unreadable file.
  public static func checkpointKind(at path: String) -> Content? {
    guard let metadata = safeTensorsMetadata(at: path), metadata["format"] == Checkpoint.formatName else { return nil }
    return Checkpoint.hasTrainingState(metadata) ? .checkpoint : .weights
  }

  /// The `__metadata__` of a safetensors file, reading only its header; `nil` when the file is
  /// not safetensors.
  static func safeTensorsMetadata(at path: String) -> [String: String]? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let lengthBytes = try? handle.read(upToCount: 8), lengthBytes.count == 8 else { return nil }
    var length: UInt64 = 0
    for byte in lengthBytes.reversed() { length = length << 8 | UInt64(byte) }
    guard length >= 2, length <= UInt64(SafeTensors.maximumHeaderLength),
      let header = try? handle.read(upToCount: Int(length)), header.count == Int(length),
      header.first == UInt8(ascii: "{"),
      let members = (try? JSONSerialization.jsonObject(with: header)) as? [String: Any]
    else { return nil }
    guard let entries = members["__metadata__"] as? [String: Any] else { return [:] }
    return entries.compactMapValues { $0 as? String }
  }
}
