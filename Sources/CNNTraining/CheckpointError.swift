import CNNKernels
import CNNOptimizers
import CNNTensor

/// Why a checkpoint (a safetensors file) could not be read, written or applied.
///
/// Each description says what was wrong and ends with a `---> HINT:` line that names a fix,
/// in the manner of llm.c's "Bad magic model file".
public enum CheckpointError: Error, Equatable, CustomStringConvertible, Sendable {
  /// A tensor whose shape in the checkpoint differs from the model's.
  public struct ShapeMismatch: Equatable, Sendable {
    public var key: String
    /// The shape in the model.
    public var expected: Shape
    /// The shape in the checkpoint.
    public var found: Shape

    public init(key: String, expected: Shape, found: Shape) {
      self.key = key
      self.expected = expected
      self.found = found
    }
  }

  /// The file has fewer than the 8 bytes of the header length.
  case fileTooShort(byteCount: Int)
  /// The header length is over `SafeTensors.maximumHeaderLength`.
  case headerTooLarge(length: UInt64)
  /// The header length runs past the end of the file.
  case headerPastEnd(length: UInt64, fileLength: Int)
  /// The header is not a JSON object of the safetensors shape; the string says where.
  case malformedHeader(String)
  /// A tensor's `dtype` is not a safetensors type.
  case unknownDType(key: String, dtype: String)
  /// A tensor's type cannot become `Float` here (an integer weight, a boolean, an 8-bit float).
  case unsupportedDType(key: String, dtype: String)
  /// A tensor's `data_offsets` fall outside the data section, or end before they start.
  case offsetsOutsideData(key: String, start: Int, end: Int, dataLength: Int)
  /// A tensor's byte range does not hold `dtype × shape`.
  case offsetsMismatchShape(key: String, dtype: String, shape: Shape, expectedBytes: Int, foundBytes: Int)
  /// A tensor does not start where the previous one (in offset order) ends: a gap or an overlap.
  case offsetsNotContiguous(key: String, expectedStart: Int, foundStart: Int)
  /// The tensors cover fewer bytes than the data section holds.
  case dataLengthMismatch(covered: Int, dataLength: Int)
  /// A tensor that was asked for is not in the file.
  case missingTensor(String)
  /// A `__metadata__` entry that CNNKit needs is missing or unreadable.
  case invalidMetadata(key: String, value: String?, expected: String)
  /// The tensors do not fit the model: PyTorch's `load_state_dict` report.
  case stateMismatch(model: String, missing: [String], unexpected: [String], mismatched: [ShapeMismatch])
  /// The checkpoint names no model and none was given.
  case modelNameRequired
  /// The checkpoint was saved from another model than the one asked for.
  case modelMismatch(checkpoint: String, requested: String)
  /// The model cannot be built for the checkpoint's configuration.
  case invalidConfiguration(String)
  /// `error`, found in the file at `path` (the description names the file first).
  indirect case inFile(path: String, CheckpointError)
  /// The model the metadata describes would not fit the memory budget.
  case memoryBudget(MemoryBudgetError)
  /// A weight is NaN or infinite: every output of the model would be meaningless.
  case nonFiniteTensor(key: String, index: Int, value: Float, count: Int)
  /// The saved optimizer state does not fit the optimizer or the model.
  case optimizerState(OptimizerStateError)
  /// A file could not be read: it does not exist, is a directory, or may not be read.
  case unreadableFile(path: String, reason: String)
  /// A file-system call failed while writing.
  case fileSystem(operation: String, path: String, reason: String)
  /// The file was not written: its target, the disk, or a guard refused (see `FileWriteError`).
  case fileWrite(FileWriteError)

  public var description: String {
    "\(problem)\n---> HINT: \(hint)"
  }

  /// What was wrong.
  public var problem: String {
    switch self {
    case .fileTooShort(let count):
      return "The file has \(count) bytes; a safetensors file starts with an 8-byte header length."
    case .headerTooLarge(let length):
      return "The header length is \(length) bytes, more than the \(SafeTensors.maximumHeaderLength) allowed."
    case .headerPastEnd(let length, let fileLength):
      return "The header length is \(length) bytes, but only \(max(fileLength - 8, 0)) bytes follow it."
    case .malformedHeader(let reason):
      return "The safetensors header is malformed: \(reason)."
    case .unknownDType(let key, let dtype):
      return "Tensor \"\(key)\" has dtype \"\(dtype)\", which is not a safetensors type."
    case .unsupportedDType(let key, let dtype):
      return "Tensor \"\(key)\" has dtype \(dtype); CNNKit converts only F32, F16, BF16 and F64 for weights "
        + "(integers only for counters such as num_batches_tracked)."
    case .offsetsOutsideData(let key, let start, let end, let dataLength):
      return "Tensor \"\(key)\" has data_offsets [\(start), \(end)], outside the \(dataLength) bytes of data."
    case .offsetsMismatchShape(let key, let dtype, let shape, let expected, let found):
      return "Tensor \"\(key)\" (\(dtype), shape \(shape)) needs \(expected) bytes, but its data_offsets span \(found)."
    case .offsetsNotContiguous(let key, let expected, let found):
      return "Tensor \"\(key)\" starts at byte \(found) of the data, but the previous tensor ends at \(expected) "
        + "(\(found > expected ? "a gap" : "an overlap"))."
    case .dataLengthMismatch(let covered, let dataLength):
      return "The tensors cover \(covered) bytes, but the data section holds \(dataLength)."
    case .missingTensor(let key):
      return "The file has no tensor \"\(key)\"."
    case .invalidMetadata(let key, let value, let expected):
      return "Metadata \"\(key)\" is \(value.map { "\"\($0)\"" } ?? "missing"); expected \(expected)."
    case .stateMismatch(let model, let missing, let unexpected, let mismatched):
      var lines = ["Error(s) in loading the checkpoint into \(model):"]
      func quoted(_ keys: [String]) -> String { keys.map { "\"\($0)\"" }.joined(separator: ", ") }
      if !missing.isEmpty { lines.append("  Missing key(s): \(quoted(missing)).") }
      if !unexpected.isEmpty { lines.append("  Unexpected key(s): \(quoted(unexpected)).") }
      for m in mismatched {
        lines.append(
          "  Size mismatch for \(m.key): the checkpoint has shape \(m.found), the model has \(m.expected).")
      }
      return lines.joined(separator: "\n")
    case .modelNameRequired:
      return "The checkpoint has no CNNKit metadata naming its model (a plain state_dict)."
    case .modelMismatch(let checkpoint, let requested):
      return "The checkpoint holds a \(checkpoint), not a \(requested)."
    case .invalidConfiguration(let reason):
      return "The model cannot be built from the checkpoint: \(reason)."
    case .memoryBudget(let error):
      return "The model cannot be built from the checkpoint: \(error.problem)"
    case .inFile(let path, let error):
      return "\(path): \(error.problem)"
    case .nonFiniteTensor(let key, let index, let value, let count):
      return "Tensor \"\(key)\" holds \(value) at index \(index)"
        + (count > 1 ? " (and \(count - 1) more values that are not finite)" : "")
        + (key.hasPrefix(Checkpoint.optimizerPrefix)
          ? "; the optimizer's first step would spread it to the weights."
          : "; the model's outputs would be meaningless.")
    case .optimizerState(let error):
      return "The saved optimizer state does not fit: \(error.description.split(separator: "\n").first ?? "")"
    case .unreadableFile(let path, let reason):
      return "Could not read \(path): \(sentence(reason))"
    case .fileSystem(let operation, let path, let reason):
      return "Could not \(operation) \(path): \(sentence(reason))"
    case .fileWrite(let error):
      return error.problem
    }
  }

  /// How to fix it.
  public var hint: String {
    switch self {
    case .fileTooShort, .headerPastEnd, .dataLengthMismatch:
      return "the file is truncated or is not safetensors; CNNKit writes checkpoints atomically, so use the "
        + "previous checkpoint or copy the file again."
    case .headerTooLarge:
      return "is this a safetensors file? A PyTorch .pt/.pth file is a pickle or zip archive; convert it with "
        + "safetensors.torch.save_file(model.state_dict(), \"model.safetensors\")."
    case .malformedHeader, .offsetsOutsideData, .offsetsMismatchShape, .offsetsNotContiguous:
      return "the file is damaged or was not written by a safetensors writer; re-save it with "
        + "safetensors.torch.save_file or CNNKit."
    case .unknownDType, .unsupportedDType:
      return "convert the weights to floating point before saving, e.g. "
        + "{k: v.float() for k, v in state_dict.items()} in PyTorch."
    case .missingTensor:
      return "list the keys with `python3 Scripts/reference-fixtures.py --verify FILE` and check the name."
    case .invalidMetadata:
      return "the CNNKit metadata was edited or damaged; load the tensors alone by naming the model "
        + "(--model NAME) and dropping the metadata."
    case .stateMismatch:
      return "build the model the checkpoint was saved from (same --model, input shape and class count), "
        + "or apply with strict: false to skip missing and unexpected keys."
    case .modelNameRequired:
      return "name the architecture, e.g. --model resnet18 (or Checkpoint.makeModel(.resNet18))."
    case .modelMismatch(let checkpoint, _):
      return "pass --model \(checkpoint), or leave --model out to use the checkpoint's own."
    case .invalidConfiguration:
      return "pass the input shape the weights were trained for (C×H×W) and check --model."
    case .memoryBudget(let error):
      return error.hint
    case .inFile(_, let error):
      return error.hint
    case .nonFiniteTensor:
      return "the training diverged before this checkpoint was saved, or the file is damaged; use an earlier "
        + "checkpoint, or retrain with a lower --learning-rate (or --clip-norm)."
    case .optimizerState:
      return "resume with the optimizer and model the checkpoint was saved with, or start a fresh run "
        + "from its weights alone."
    case .unreadableFile:
      return "check the path (relative paths start from the current directory) and that it names a "
        + "readable file, not a directory."
    case .fileSystem:
      return "check that the directory exists, is writable and has free space."
    case .fileWrite(let error):
      return error.hint
    }
  }
}

/// `reason` ending with exactly one period: system messages often bring their own.
private func sentence(_ reason: String) -> String {
  var text = Substring(reason)
  while let last = text.last, last == "." || last.isWhitespace { text = text.dropLast() }
  return text + "."
}
