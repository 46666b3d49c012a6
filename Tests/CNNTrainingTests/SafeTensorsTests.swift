import CNNTensor
import Foundation
import Testing

@testable import CNNTraining

/// A safetensors file from a literal header and data bytes (the header is not padded).
func safetensorsFile(_ header: String, data: [UInt8] = []) -> [UInt8] {
  let json = Array(header.utf8)
  return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * $0)) } + json + data
}

/// The error that reading `bytes` throws, or `nil` when it reads.
func readError(_ bytes: [UInt8]) -> CheckpointError? {
  do {
    _ = try SafeTensorsFile(bytes: bytes)
    return nil
  } catch {
    return error
  }
}

@Suite struct SafeTensorsTests {
  let tensors: [(name: String, tensor: Tensor)] = [
    ("conv.weight", Tensor(shape: [3, 1, 2, 2], scalars: [1, -2, 3.5, 0, .pi, -0.0, .leastNonzeroMagnitude, 7, 8, 9, 10, 11])),
    ("conv.bias", Tensor(shape: [2], scalars: [0.25, -1e30])),
    ("bn.num_batches_tracked", Tensor(shape: [], scalars: [3])),
    ("empty", Tensor(shape: [0, 4], scalars: [])),
  ]

  @Test func roundTripIsExact() throws {
    let metadata = ["format": "cnnkit", "quote\"d": "line\nbreak é \u{1} \\ end"]
    let bytes = SafeTensors.encode(tensors, metadata: metadata)
    let file = try SafeTensorsFile(bytes: bytes)
    #expect(file.metadata == metadata)
    #expect(file.names == tensors.map(\.name))
    for (name, tensor) in tensors {
      let read = try file.tensor(named: name)
      #expect(read.shape == tensor.shape)
      #expect(read.scalars.map(\.bitPattern) == tensor.scalars.map(\.bitPattern), "\(name)")
    }
  }

  @Test func headerIsPaddedWithSpacesToEightBytes() throws {
    for count in 1...9 {
      let bytes = SafeTensors.encode([("t", Tensor(repeating: 1, shape: [count]))], metadata: ["k": String(repeating: "x", count: count)])
      let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
      #expect(length % 8 == 0)
      #expect(bytes[8] == UInt8(ascii: "{"))
      let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
      #expect(header.hasPrefix(#"{"__metadata__":{"k":""#))
      #expect(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
      #expect(bytes.count == 8 + length + 4 * count)
    }
  }

  @Test func writesAtomicallyToDisk() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("t.safetensors")
    try SafeTensors.write(tensors, metadata: ["a": "b"], to: url)
    let file = try SafeTensorsFile(contentsOf: url)
    #expect(try file.tensor(named: "conv.bias") == tensors[1].tensor)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["t.safetensors"])
  }

  // MARK: - Malformed files

  @Test func fileShorterThanEightBytes() {
    #expect(readError([]) == .fileTooShort(byteCount: 0))
    #expect(readError([1, 0, 0, 0, 0, 0, 0]) == .fileTooShort(byteCount: 7))
  }

  @Test func headerLengthPastTheEnd() {
    let bytes: [UInt8] = [100, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)
    #expect(readError(bytes) == .headerPastEnd(length: 100, fileLength: 10))
  }

  @Test func hugeHeaderLength() {
    // A PyTorch pickle starts 0x80 0x02 …: read as a length it is absurd.
    let pickle: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20]
    guard case .headerTooLarge = readError(pickle) else {
      Issue.record("expected headerTooLarge, got \(String(describing: readError(pickle)))")
      return
    }
    let justOver = UInt64(SafeTensors.maximumHeaderLength + 1)
    let bytes = (0..<8).map { UInt8(truncatingIfNeeded: justOver >> (8 * $0)) }
    #expect(readError(bytes) == .headerTooLarge(length: justOver))
    #expect(readError(bytes)?.description.contains("---> HINT: is this a safetensors file?") == true)
  }

  @Test(arguments: [
    (#"[1, 2]"#, "does not start with '{'"),
    (#"{"a": }"#, "invalid JSON"),
    (#"{"a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}"#, "invalid JSON"),
    (#"{"a": 1, "a": 2}"#, "duplicate key"),
    (#"{"a": 1, "\u0061": 2}"#, "duplicate key \"a\""),
    ("{\"a\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}",
     "invalid JSON (Too many nested"),
    (#"{"a": {"dtype": "F32", "dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, "duplicate key \"dtype\""),
    (#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},}"#, "a comma before '}'"),
    (#"{"a": {"dtype": "F32", "shape": [1, ], "data_offsets": [0, 4]}}"#, "a comma before ']'"),
    (#"{"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
    (#"{"a": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
    (#"{"a": {"dtype": "F32", "shape": [99999999999999999999], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
    (#"{"a": {"dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
    (#"{"a": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}}"#, "\"dtype\" of tensor \"a\" is not a string"),
    (#"{"__metadata__": {"k": 5}}"#, "not a string"),
    (#"{"__metadata__": [1]}"#, "not an object"),
    (#"{"a": 5}"#, "not an object with dtype"),
    (#"{"a": {"shape": [], "data_offsets": [0, 4]}}"#, "has no \"dtype\""),
    (#"{"a": {"dtype": "F32", "data_offsets": [0, 4]}}"#, "has no \"shape\""),
    (#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
    (#"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, "not a non-negative integer"),
    (#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}"#, "has 3 numbers"),
    (#"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4611686018427387904, 0], "data_offsets": [0, 0]}}"#,
     "overflows"),
  ])
  func malformedHeader(header: String, message: String) {
    let error = readError(safetensorsFile(header, data: [0, 0, 0, 0]))
    guard case .malformedHeader(let reason) = error else {
      Issue.record("expected malformedHeader for \(header), got \(String(describing: error))")
      return
    }
    #expect(reason.contains(message), "\(reason)")
    #expect(error?.description.contains("\n---> HINT: ") == true)
  }

  /// The strictness checks (duplicate keys, trailing commas) look only at JSON structure.
  @Test func punctuationInsideStringsIsNotStructure() throws {
    let header =
      #"{"__metadata__": {"x": "a,}", "y": "[\"a\", ]", "z\\": "\\"}, "w,}": "#
      + #"{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "v": {"dtype": "F32", "shape": [], "#
      + #""data_offsets": [4, 8]}}"#
    let file = try SafeTensorsFile(bytes: safetensorsFile(header, data: [0, 0, 128, 63, 0, 0, 0, 64]))
    #expect(file.metadata == ["x": "a,}", "y": "[\"a\", ]", "z\\": "\\"])
    #expect(file.names == ["w,}", "v"])
    #expect(try file.tensor(named: "v").scalars == [2])
  }

  @Test func notUTF8() {
    let bytes = safetensorsFile(#"{"a\#u{FF}": 1}"#).map { $0 == 0xC3 ? 0xFF : $0 }
    guard case .malformedHeader = readError(bytes) else {
      Issue.record("expected malformedHeader, got \(String(describing: readError(bytes)))")
      return
    }
  }

  @Test func unknownDType() {
    let bytes = safetensorsFile(#"{"w": {"dtype": "F7", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])
    #expect(readError(bytes) == .unknownDType(key: "w", dtype: "F7"))
  }

  @Test func offsetsOutsideTheData() {
    let past = safetensorsFile(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: [0, 0, 0, 0])
    #expect(readError(past) == .offsetsOutsideData(key: "w", start: 0, end: 8, dataLength: 4))
    let backwards = safetensorsFile(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}"#, data: [0, 0, 0, 0])
    #expect(readError(backwards) == .offsetsOutsideData(key: "w", start: 4, end: 0, dataLength: 4))
  }

  @Test func offsetsInconsistentWithShape() {
    let bytes = safetensorsFile(
      #"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}"#, data: [UInt8](repeating: 0, count: 12))
    #expect(
      readError(bytes) == .offsetsMismatchShape(key: "w", dtype: "F32", shape: [2, 2], expectedBytes: 16, foundBytes: 12))
  }

  @Test func gapsOverlapsAndTrailingBytes() {
    let gap = safetensorsFile(
      #"{"b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#,
      data: [UInt8](repeating: 0, count: 20))
    #expect(readError(gap) == .offsetsNotContiguous(key: "b", expectedStart: 8, foundStart: 12))
    let overlap = safetensorsFile(
      #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
      data: [UInt8](repeating: 0, count: 12))
    #expect(readError(overlap) == .offsetsNotContiguous(key: "b", expectedStart: 8, foundStart: 4))
    let late = safetensorsFile(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: [UInt8](repeating: 0, count: 8))
    #expect(readError(late) == .offsetsNotContiguous(key: "a", expectedStart: 0, foundStart: 4))
    let trailing = safetensorsFile(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0, 9])
    #expect(readError(trailing) == .dataLengthMismatch(covered: 4, dataLength: 5))
  }

  // MARK: - Conversions

  @Test func float16() throws {
    // 1, −2, 65504 (largest), 2⁻²⁴ (smallest subnormal), −0, +∞, 0.333251953125
    let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555]
    let file = try SafeTensorsFile(bytes: safetensorsFile(
      #"{"h": {"dtype": "F16", "shape": [7], "data_offsets": [0, 14]}}"#,
      data: halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
    let values = try file.tensor(named: "h").scalars
    #expect(values.map(\.bitPattern) == [1, -2, 65504, 0x1p-24, -0.0, .infinity, 0.333251953125].map { Float($0).bitPattern })
    let nan = floatFromHalf(0x7E00)
    #expect(nan.isNaN)
  }

  @Test func bfloat16AndFloat64() throws {
    let brains: [UInt16] = [0x3F80, 0xC0A0, 0x0001]  // 1, −5, smallest subnormal
    let doubles: [Double] = [0.1, -1e300, 3]
    let data = brains.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
      + doubles.flatMap { d in (0..<8).map { UInt8(truncatingIfNeeded: d.bitPattern >> (8 * $0)) } }
    let file = try SafeTensorsFile(bytes: safetensorsFile(
      #"{"b": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}, "d": {"dtype": "F64", "shape": [3], "data_offsets": [6, 30]}}"#,
      data: data))
    #expect(try file.tensor(named: "b").scalars == [1, -5, Float(bitPattern: 0x0001_0000)])
    #expect(try file.tensor(named: "d").scalars == [Float(0.1), -.infinity, 3])
  }

  @Test func integersOnlyWhenAllowed() throws {
    let value: Int64 = -7
    let file = try SafeTensorsFile(bytes: safetensorsFile(
      #"{"n": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}, "m": {"dtype": "BOOL", "shape": [1], "data_offsets": [8, 9]}}"#,
      data: (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } + [1]))
    #expect(try file.tensor(named: "n", allowingIntegers: true).scalars == [-7])
    #expect(throws: CheckpointError.unsupportedDType(key: "n", dtype: "I64")) { try file.tensor(named: "n") }
    #expect(throws: CheckpointError.unsupportedDType(key: "m", dtype: "BOOL")) {
      try file.tensor(named: "m", allowingIntegers: true)
    }
    #expect(throws: CheckpointError.missingTensor("x")) { try file.tensor(named: "x") }
  }

  @Test func everyErrorEndsWithAHint() {
    let errors: [CheckpointError] = [
      .fileTooShort(byteCount: 3), .headerTooLarge(length: 1 << 40), .headerPastEnd(length: 9, fileLength: 9),
      .malformedHeader("x"), .unknownDType(key: "w", dtype: "Q"), .unsupportedDType(key: "w", dtype: "I32"),
      .offsetsOutsideData(key: "w", start: 0, end: 9, dataLength: 4),
      .offsetsMismatchShape(key: "w", dtype: "F32", shape: [2], expectedBytes: 8, foundBytes: 4),
      .offsetsNotContiguous(key: "w", expectedStart: 0, foundStart: 4), .dataLengthMismatch(covered: 0, dataLength: 4),
      .missingTensor("w"), .invalidMetadata(key: "k", value: nil, expected: "v"),
      .stateMismatch(model: "m", missing: ["a"], unexpected: [], mismatched: []), .modelNameRequired,
      .modelMismatch(checkpoint: "a", requested: "b"), .invalidConfiguration("x"),
      .optimizerState(.missingKey("0.step")), .unreadableFile(path: "/x", reason: "gone"),
      .fileSystem(operation: "write", path: "/x", reason: "disk full."),
    ]
    for error in errors {
      let lines = error.description.split(separator: "\n")
      #expect(lines.count >= 2 && lines.last?.hasPrefix("---> HINT: ") == true, "\(error)")
      #expect(!error.description.contains(".."), "\(error)")
    }
  }

  /// Bug 9: reading a missing checkpoint said "doesn't exist.." and hinted at free space.
  @Test func readFailuresSayWhyAndHintAtReading() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let missing = directory.appendingPathComponent("missing.safetensors")
    for (url, why) in [(missing, "the file does not exist"), (directory, "it is a directory, not a file")] {
      var failure: CheckpointError?
      do { _ = try SafeTensorsFile(contentsOf: url) } catch { failure = error }
      let error = try #require(failure)
      #expect(error == .unreadableFile(path: url.path, reason: why))
      #expect(error.problem == "Could not read \(url.path): \(why).")
      #expect(error.hint.contains("check the path"))
      #expect(!error.description.contains("writable") && !error.description.contains("free space"))
    }
  }
}

/// A new empty directory under the system's temporary directory.
func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnkit-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}
