import CNNData
import CNNTensor
import Foundation

/// A safetensors file read into memory and validated.
///
/// Nothing in the file is trusted before it is checked, in the order the reference
/// implementation checks it: the file holds the 8-byte header length; the length is at most
/// 100 MB and within the file; the header is a UTF-8 JSON object starting with `{`, with
/// no duplicate keys; `__metadata__` maps strings to strings; every tensor has a known
/// `dtype`, a shape of non-negative integers and two `data_offsets` inside the data; each
/// tensor's bytes are exactly `dtype × shape`; and, in offset order, the tensors cover the
/// data without gaps or overlaps.
public struct SafeTensorsFile: Sendable {
  /// The `__metadata__` entries (empty when the header has none).
  public let metadata: [String: String]
  /// The tensors in the order of their data (by `data_offsets`).
  public let tensors: [SafeTensors.TensorInfo]
  private let bytes: [UInt8]
  private let dataStart: Int
  private let index: [String: Int]

  /// Reads and validates the file at `url`.
  public init(contentsOf url: URL) throws(CheckpointError) {
    let data: Data
    // A directory gets the reason below; FIFOs and devices are refused before they are opened.
    if FileManager.default.fileExists(atPath: url.path), InputFile.kindProblem(at: url.path) != "a directory",
      let problem = InputFile.problem(at: url.path)
    {
      throw .unreadableFile(path: url.path, reason: problem)
    }
    do {
      data = try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
      throw .unreadableFile(path: url.path, reason: Self.reason(error, reading: url))
    }
    do {
      try self.init(bytes: [UInt8](data))
    } catch {
      throw .inFile(path: url.path, error)
    }
  }

  /// Validates `bytes`, the whole contents of a safetensors file.
  public init(bytes: [UInt8]) throws(CheckpointError) {
    guard bytes.count >= 8 else { throw .fileTooShort(byteCount: bytes.count) }
    var length: UInt64 = 0
    for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
    guard length <= UInt64(SafeTensors.maximumHeaderLength) else { throw .headerTooLarge(length: length) }
    guard length <= UInt64(bytes.count - 8) else { throw .headerPastEnd(length: length, fileLength: bytes.count) }
    let dataStart = 8 + Int(length)
    let header = bytes[8..<dataStart]
    guard header.first == UInt8(ascii: "{") else {
      throw .malformedHeader("it does not start with '{'")
    }
    let json: SafeTensorsHeaderValue
    do {
      json = try SafeTensorsHeaderValue.parse(header)
    } catch {
      throw .malformedHeader(error.message)
    }
    guard case .object(let members) = json else { throw .malformedHeader("it is not a JSON object") }

    var metadata: [String: String] = [:]
    var tensors: [SafeTensors.TensorInfo] = []
    for (key, value) in members.sorted(by: { $0.key < $1.key }) {
      if key == "__metadata__" {
        metadata = try Self.metadata(from: value)
      } else {
        tensors.append(try Self.tensorInfo(named: key, from: value, dataLength: bytes.count - dataStart))
      }
    }
    try Self.validateLayout(of: &tensors, dataLength: bytes.count - dataStart)
    self.metadata = metadata
    self.tensors = tensors
    self.bytes = bytes
    self.dataStart = dataStart
    self.index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
  }

  /// The tensor names, in the order of their data.
  public var names: [String] { tensors.map(\.name) }

  /// Where the tensor `name` sits, or `nil`.
  public func info(named name: String) -> SafeTensors.TensorInfo? {
    index[name].map { tensors[$0] }
  }

  /// The tensor `name` as `Float`s: F32 as is; F16, BF16 and F64 converted (F64 rounds to
  /// nearest); integer types only when `allowingIntegers` (for counters such as
  /// `num_batches_tracked`).
  public func tensor(named name: String, allowingIntegers: Bool = false) throws(CheckpointError) -> Tensor {
    guard let info = info(named: name) else { throw .missingTensor(name) }
    guard info.dtype.isConvertibleFloatingPoint || (allowingIntegers && info.dtype.isInteger) else {
      throw .unsupportedDType(key: name, dtype: info.dtype.rawValue)
    }
    let start = dataStart + info.dataOffsets.lowerBound
    let scalars = bytes.withUnsafeBytes { raw in
      SafeTensors.decode(
        UnsafeRawBufferPointer(rebasing: raw[start..<(start + info.dataOffsets.count)]), as: info.dtype)
    }
    return Tensor(shape: info.shape, scalars: scalars)
  }

  /// The raw bytes of tensor `name` (little-endian, in its own dtype).
  public func rawBytes(named name: String) throws(CheckpointError) -> ArraySlice<UInt8> {
    guard let info = info(named: name) else { throw .missingTensor(name) }
    return bytes[(dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)]
  }

  // MARK: - Validation

  private static func metadata(from value: SafeTensorsHeaderValue) throws(CheckpointError) -> [String: String] {
    if value == .null { return [:] }
    guard case .object(let entries) = value else {
      throw .malformedHeader("__metadata__ is \(value.kind), not an object of strings")
    }
    var metadata: [String: String] = [:]
    for (key, entry) in entries.sorted(by: { $0.key < $1.key }) {
      guard case .string(let text) = entry else {
        throw .malformedHeader("__metadata__ entry \"\(key)\" is \(entry.kind), not a string")
      }
      metadata[key] = text
    }
    return metadata
  }

  private static func tensorInfo(named name: String, from value: SafeTensorsHeaderValue, dataLength: Int) throws(CheckpointError)
    -> SafeTensors.TensorInfo
  {
    guard case .object(let fields) = value else {
      throw .malformedHeader("tensor \"\(name)\" is \(value.kind), not an object with dtype, shape and data_offsets")
    }
    func field(_ key: String) throws(CheckpointError) -> SafeTensorsHeaderValue {
      guard let found = fields[key] else { throw .malformedHeader("tensor \"\(name)\" has no \"\(key)\"") }
      return found
    }
    func integers(_ key: String) throws(CheckpointError) -> [Int] {
      guard case .array(let elements) = try field(key) else {
        throw .malformedHeader("\"\(key)\" of tensor \"\(name)\" is not an array")
      }
      var result: [Int] = []
      for element in elements {
        guard case .integer(let n) = element, n >= 0 else {
          throw .malformedHeader("\"\(key)\" of tensor \"\(name)\" holds \(element), not a non-negative integer")
        }
        result.append(n)
      }
      return result
    }
    guard case .string(let dtypeName) = try field("dtype") else {
      throw .malformedHeader("\"dtype\" of tensor \"\(name)\" is not a string")
    }
    guard let dtype = SafeTensors.DType(rawValue: dtypeName) else {
      throw .unknownDType(key: name, dtype: dtypeName)
    }
    let shape = try integers("shape")
    let offsets = try integers("data_offsets")
    guard offsets.count == 2 else {
      throw .malformedHeader("\"data_offsets\" of tensor \"\(name)\" has \(offsets.count) numbers, not 2")
    }
    guard offsets[0] <= offsets[1] else {
      throw .offsetsOutsideData(key: name, start: offsets[0], end: offsets[1], dataLength: dataLength)
    }
    return SafeTensors.TensorInfo(name: name, dtype: dtype, shape: Shape(shape), dataOffsets: offsets[0]..<offsets[1])
  }

  /// Sorts `tensors` by offset and checks that they tile the data exactly.
  private static func validateLayout(of tensors: inout [SafeTensors.TensorInfo], dataLength: Int) throws(CheckpointError) {
    tensors.sort {
      ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
        < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
    }
    var end = 0
    for info in tensors {
      let offsets = info.dataOffsets
      guard offsets.upperBound <= dataLength else {
        throw .offsetsOutsideData(
          key: info.name, start: offsets.lowerBound, end: offsets.upperBound, dataLength: dataLength)
      }
      var expected = info.dtype.byteCount
      for dimension in info.shape.dimensions {
        let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
        guard !overflow else { throw .malformedHeader("the shape \(info.shape) of tensor \"\(info.name)\" overflows") }
        expected = product
      }
      guard expected == offsets.count else {
        throw .offsetsMismatchShape(
          key: info.name, dtype: info.dtype.rawValue, shape: info.shape, expectedBytes: expected,
          foundBytes: offsets.count)
      }
      guard offsets.lowerBound == end else {
        throw .offsetsNotContiguous(key: info.name, expectedStart: end, foundStart: offsets.lowerBound)
      }
      end = offsets.upperBound
    }
    guard end == dataLength else { throw .dataLengthMismatch(covered: end, dataLength: dataLength) }
  }

  /// Why `url` could not be read: it is missing, a directory or unreadable, else the system's words.
  private static func reason(_ error: any Error, reading url: URL) -> String {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
      return "the file does not exist"
    }
    if isDirectory.boolValue { return "it is a directory, not a file" }
    if !FileManager.default.isReadableFile(atPath: url.path) { return "it may not be read (permission denied)" }
    if let cocoa = error as? CocoaError, let underlying = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError {
      return underlying.localizedDescription
    }
    return (error as NSError).localizedDescription
  }
}
