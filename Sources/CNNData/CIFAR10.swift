import Foundation

/// CIFAR-10 (Krizhevsky, 2009) in its binary version: 32 × 32 colour images in 10 classes.
///
/// A directory holds `data_batch_1.bin` … `data_batch_5.bin` (training, read in that order and
/// concatenated; any subset of them, such as the one `data_batch_1.bin` of a sample, is fine),
/// `test_batch.bin`, and optionally `batches.meta.txt` with one class name per line. Each file
/// is a sequence of 3,073-byte records with no header:
///
///     1 byte      label, 0 … 9
///     1,024 bytes red plane, 32 × 32, row-major, top row first
///     1,024 bytes green plane
///     1,024 bytes blue plane
///
/// The planes are already NCHW, so a record's bytes after the label are one image of a
/// `[N, 3, 32, 32]` ``Dataset`` as they stand. Every file must be a whole number of records and
/// every label below the number of classes.
public struct CIFAR10: Sendable {
  /// The training split, `[N, 3, 32, 32]`.
  public let training: Dataset
  /// The test split.
  public let test: Dataset

  /// Bytes per record: one label byte and `3 · 32 · 32` pixel bytes.
  public static let recordSize = 1 + imageBytes
  /// Bytes per image.
  public static let imageBytes = 3 * 32 * 32
  /// CIFAR-10's classes, indexed by label (also the contents of `batches.meta.txt`).
  public static let classNames = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
  ]
  /// The test file's name.
  public static let testFileName = "test_batch.bin"
  /// The class-names file's name.
  public static let metaFileName = "batches.meta.txt"

  /// Reads the training batches, the test batch and the class names in `directory`.
  ///
  /// - Throws: `DatasetError.formatFilesNotFound` when the directory or its batch files are
  ///   missing, `.badRecordSize`, `.truncated` (an empty file) or `.labelOutOfRange`.
  public init(directory: URL) throws {
    let fileManager = FileManager.default
    var isDirectory: ObjCBool = false
    let expected = ["data_batch_1.bin", Self.testFileName]
    guard fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw DatasetError.formatFilesNotFound(directory: directory.path, format: .cifar10, missing: expected)
    }
    let names = (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []
    let trainingFiles = names.compactMap { name -> (Int, String)? in
      guard name.hasPrefix("data_batch_"), name.hasSuffix(".bin"),
        let number = Int(name.dropFirst("data_batch_".count).dropLast(".bin".count))
      else { return nil }
      return (number, name)
    }.sorted { $0.0 < $1.0 }.map(\.1)
    var missing: [String] = []
    if trainingFiles.isEmpty { missing.append("data_batch_1.bin … data_batch_5.bin") }
    if !names.contains(Self.testFileName) { missing.append(Self.testFileName) }
    guard missing.isEmpty else {
      throw DatasetError.formatFilesNotFound(directory: directory.path, format: .cifar10, missing: missing)
    }
    let meta = directory.appendingPathComponent(Self.metaFileName)
    let classNames = names.contains(Self.metaFileName) ? try Self.readClassNames(meta) : Self.classNames
    let parts = try trainingFiles.map {
      try Self.load(contentsOf: directory.appendingPathComponent($0), classNames: classNames)
    }
    training = Dataset(
      images: parts.flatMap(\.images), labels: parts.flatMap(\.labels), channels: 3, height: 32, width: 32,
      classNames: classNames)
    test = try Self.load(contentsOf: directory.appendingPathComponent(Self.testFileName), classNames: classNames)
  }

  /// Creates CIFAR-10 from two datasets.
  public init(training: Dataset, test: Dataset) {
    self.training = training
    self.test = test
  }

  /// Reads one batch file as a dataset.
  ///
  /// - Throws: `DatasetError` naming the file: `.fileNotFound`, `.unreadableFile`,
  ///   `.badRecordSize`, `.truncated` or `.labelOutOfRange`.
  public static func load(contentsOf url: URL, classNames: [String] = CIFAR10.classNames) throws -> Dataset {
    try decode(IDX.readFile(url), file: url.path, classNames: classNames)
  }

  /// Decodes the bytes of one batch file.
  ///
  /// - Parameters:
  ///   - bytes: The whole file: `count × 3,073` bytes.
  ///   - file: The name to use in errors.
  ///   - classNames: One name per class; labels must be below its count.
  /// - Throws: `DatasetError.badRecordSize`, `.truncated` (no records) or `.labelOutOfRange`.
  public static func decode(_ bytes: [UInt8], file: String = "<memory>", classNames: [String] = classNames)
    throws(DatasetError) -> Dataset
  {
    guard !bytes.isEmpty else { throw .truncated(file: file, expectedBytes: recordSize, actualBytes: 0) }
    guard bytes.count % recordSize == 0 else {
      throw .badRecordSize(file: file, size: bytes.count, recordSize: recordSize)
    }
    let count = bytes.count / recordSize
    var labels = [Int](repeating: 0, count: count)
    var images = [UInt8](repeating: 0, count: count * imageBytes)
    bytes.withUnsafeBufferPointer { source in
      images.withUnsafeMutableBufferPointer { target in
        for record in 0..<count {
          let start = record * recordSize
          labels[record] = Int(source[start])
          guard let from = source.baseAddress, let to = target.baseAddress else { return }
          (to + record * imageBytes).update(from: from + start + 1, count: imageBytes)
        }
      }
    }
    if let index = labels.firstIndex(where: { $0 >= classNames.count }) {
      throw .labelOutOfRange(file: file, index: index, label: labels[index], classCount: classNames.count)
    }
    return Dataset(images: images, labels: labels, channels: 3, height: 32, width: 32, classNames: classNames)
  }

  /// The class names in `batches.meta.txt`: one per non-empty line, in label order.
  static func readClassNames(_ url: URL) throws -> [String] {
    let bytes = try IDX.readFile(url)
    let names = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
      .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !names.isEmpty else {
      throw DatasetError.emptyClassList(file: url.path)
    }
    return names
  }
}
