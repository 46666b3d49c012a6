/// A problem with a dataset file: what was wrong, in which file, and how to fix it.
///
/// Every case has a ``hint`` naming the fix, and ``description`` ends with it, in the manner
/// of llm.c's `---> HINT:` lines:
///
///     train-labels-idx1-ubyte: bad magic number 0x00000801 (2049), expected 0x00000803 (2051).
///     ---> HINT: this is an IDX labels file (2049); pass the images file (…-images-idx3-ubyte).
public enum DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
  /// A directory that should hold the dataset does not exist.
  case directoryNotFound(path: String)
  /// A file does not exist; `triedPaths` lists every name that was looked for.
  case fileNotFound(path: String, triedPaths: [String])
  /// A file exists but could not be read.
  case unreadableFile(path: String, reason: String)
  /// The first four bytes are not the magic number the reader expects.
  case badMagic(expected: UInt32, found: UInt32, file: String)
  /// An IDX header names an element type other than unsigned bytes (0x08).
  case unsupportedDataType(file: String, code: UInt8)
  /// The data is shorter than its header says.
  case truncated(file: String, expectedBytes: Int, actualBytes: Int)
  /// The data is longer than its header says. `actualBytes` is `nil` when decompression
  /// stopped at the size the header allows, so the true size is not known.
  case trailingBytes(file: String, expectedBytes: Int, actualBytes: Int?)
  /// An images file and its labels file hold different numbers of records.
  case countMismatch(imagesFile: String, imageCount: Int, labelsFile: String, labelCount: Int)
  /// A label is not a valid class index.
  case labelOutOfRange(file: String, index: Int, label: Int, classCount: Int)
  /// A gzip or DEFLATE stream is damaged (bad block, bad code, CRC mismatch, truncation, …).
  case corruptCompressedData(file: String, reason: String)
  /// Decompressed data would exceed the limit the caller set.
  case decompressedSizeExceedsLimit(file: String, limit: Int)
  /// A header describes data that cannot be in this file (e.g. 10⁹ images in 1 KB).
  case implausibleHeader(file: String, reason: String)
  /// A file of fixed-size records (CIFAR-10: 3,073 bytes) whose size is not a whole number
  /// of records.
  case badRecordSize(file: String, size: Int, recordSize: Int)
  /// The files a format needs are not in `directory` (`missing` names them).
  case formatFilesNotFound(directory: String, format: DatasetFormat, missing: [String])
  /// An image-folder dataset has no class sub-folders.
  case noClassFolders(path: String)
  /// A class folder of an image-folder dataset holds no images.
  case emptyClassFolder(path: String)
  /// An image whose size differs from the dataset's (the first image's, or the one asked for).
  case imageSizeMismatch(file: String, expected: String, found: String)
  /// A split names classes the training split does not have.
  case unknownClasses(path: String, classes: [String], known: [String])
  /// A dataset kind that needs a directory was given none.
  case directoryRequired(kind: String, contents: String)
  /// A dataset installed by a system package is not there.
  case notInstalled(name: String, path: String, hint: String)
  /// The `--data-dir` given for a dataset kind does not exist (or is not a directory).
  case dataDirectoryNotFound(path: String, kind: String, contents: String)
  /// A setting of the dataset is out of range (`channels` 2 for an image folder).
  case invalidSetting(name: String, value: String, expected: String)
  /// `batches.meta.txt` names no classes.
  case emptyClassList(file: String)

  /// How to fix the problem, in one sentence.
  public var hint: String {
    switch self {
    case .directoryNotFound:
      return Self.whereToGetData
    case .fileNotFound:
      return Self.whereToGetData
    case .unreadableFile:
      return "check the file's permissions (ls -l) and that it is a regular file."
    case .badMagic(let expected, let found, _):
      return Self.magicHint(expected: expected, found: found)
    case .unsupportedDataType(_, let code):
      return "only unsigned-byte IDX data (type 0x08) is supported, this file has type "
        + "0x\(hex(UInt32(code), digits: 2)); convert it to uint8 or use the original MNIST files."
    case .truncated:
      return "the file is incomplete (an interrupted download or copy) or its header is damaged; "
        + "download it again and compare its sha256 with the published one."
    case .trailingBytes:
      return "the file holds more data than its header describes; it was probably concatenated "
        + "or edited. Download it again and compare its sha256 with the published one."
    case .countMismatch:
      return "pair each images file with the labels file of the same split "
        + "(train-images with train-labels, t10k-images with t10k-labels) of the same dataset."
    case .labelOutOfRange:
      return "pass classNames with one name per class, or check that this labels file belongs "
        + "to this dataset."
    case .corruptCompressedData:
      return "the compressed file is damaged; download it again (check its sha256), "
        + "or test it with `gzip -t FILE`."
    case .decompressedSizeExceedsLimit:
      return "the file decompresses to more than expected; check that it is the right file, "
        + "or raise maxOutputBytes."
    case .implausibleHeader:
      return "the header is damaged or this is not an IDX file; download the file again "
        + "and compare its sha256 with the published one."
    case .badRecordSize(_, _, let recordSize):
      return "a CIFAR-10 binary file is a sequence of \(recordSize)-byte records (1 label byte, "
        + "then 1,024 red, 1,024 green and 1,024 blue bytes); the file is truncated or is not "
        + "from the binary version (cifar-10-binary.tar.gz, not the Python or MATLAB one)."
    case .formatFilesNotFound(_, let format, _):
      return format.whereToGetData
    case .noClassFolders:
      return "lay the images out as ROOT/<class>/<image>.png, one sub-folder per class "
        + "(optionally under ROOT/train and ROOT/test)."
    case .emptyClassFolder:
      return "put at least one .png, .pgm or .ppm image in every class folder, or remove the folder."
    case .imageSizeMismatch:
      return "make every image the same size, or ask for them to be resized "
        + "(`cnn train --dataset folder --image-size 32x32`, `ImageFolder.Sizing.resized`)."
    case .unknownClasses:
      return "give the test split the same class folders as the training split (the names must match)."
    case .directoryRequired(_, let contents):
      return "pass --data-dir DIR holding \(contents)."
    case .notInstalled(_, _, let hint):
      return hint
    case .dataDirectoryNotFound(_, let kind, let contents):
      return "pass --data-dir DIR holding \(contents) (for --dataset \(kind))."
    case .invalidSetting:
      return "pass a value in the range named above (or leave the setting out for its default)."
    case .emptyClassList:
      return "write one class name per line, in label order (or delete the file to use CIFAR-10's own names)."
    }
  }

  /// What went wrong, where, and (after `---> HINT:`) how to fix it.
  public var description: String { "\(problem)\n---> HINT: \(hint)" }

  private var problem: String {
    switch self {
    case .directoryNotFound(let path):
      return "\(path): dataset directory not found."
    case .dataDirectoryNotFound(let path, _, _):
      return "\(path): the data directory does not exist (or is not a directory)."
    case .invalidSetting(let name, let value, let expected):
      return "The dataset's \(name) is \(value); expected \(expected)."
    case .emptyClassList(let file):
      return "\(file) names no classes."
    case .fileNotFound(let path, let tried):
      let list = tried.isEmpty ? "" : " (looked for: \(tried.joined(separator: ", ")))"
      return "\(path): file not found\(list)."
    case .unreadableFile(let path, let reason):
      return "\(path): cannot read the file: \(reason)."
    case .badMagic(let expected, let found, let file):
      return "\(file): bad magic number 0x\(hex(found)) (\(found)), "
        + "expected 0x\(hex(expected)) (\(expected))."
    case .unsupportedDataType(let file, let code):
      return "\(file): unsupported IDX data type 0x\(hex(UInt32(code), digits: 2))."
    case .truncated(let file, let expected, let actual):
      return "\(file): truncated: expected \(expected) bytes, found \(actual)."
    case .trailingBytes(let file, let expected, let actual):
      let found = actual.map { "found \($0)" } ?? "found more (decoding stopped at the limit)"
      return "\(file): trailing bytes: the header describes \(expected) bytes, \(found)."
    case .countMismatch(let imagesFile, let imageCount, let labelsFile, let labelCount):
      return "\(imagesFile) holds \(imageCount) images but \(labelsFile) holds "
        + "\(labelCount) labels."
    case .labelOutOfRange(let file, let index, let label, let classCount):
      return "\(file): label \(label) at index \(index) is not below the class count \(classCount)."
    case .corruptCompressedData(let file, let reason):
      return "\(file): corrupt compressed data: \(reason)."
    case .decompressedSizeExceedsLimit(let file, let limit):
      return "\(file): decompressed data exceeds the limit of \(limit) bytes."
    case .implausibleHeader(let file, let reason):
      return "\(file): implausible header: \(reason)."
    case .badRecordSize(let file, let size, let recordSize):
      return "\(file): \(size) bytes is not a whole number of \(recordSize)-byte records "
        + "(\(size / recordSize) records and \(size % recordSize) bytes left over)."
    case .formatFilesNotFound(let directory, let format, let missing):
      return "\(directory): no \(format.rawValue) data here (missing: \(missing.joined(separator: ", ")))."
    case .noClassFolders(let path):
      return "\(path): no class folders found."
    case .emptyClassFolder(let path):
      return "\(path): this class folder holds no images."
    case .imageSizeMismatch(let file, let expected, let found):
      return "\(file): the image is \(found), but the dataset's images are \(expected)."
    case .unknownClasses(let path, let classes, let known):
      return "\(path): classes \(classes.joined(separator: ", ")) are not among the training classes "
        + "(\(known.joined(separator: ", ")))."
    case .directoryRequired(let kind, _):
      return "--dataset \(kind) needs a directory."
    case .notInstalled(let name, let path, _):
      return "\(name) is not installed in \(path)."
    }
  }

  static let whereToGetData =
    "pass --data-dir DIR containing train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
    + "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]; for Fashion-MNIST run "
    + "`apt-get install -y dataset-fashion-mnist` (installs to /usr/share/datasets/fashion-mnist), "
    + "or use MNIST.bundledSample() for the built-in 5,000-image MNIST sample."

  private static func magicHint(expected: UInt32, found: UInt32) -> String {
    let labels: UInt32 = 0x0000_0801
    let images: UInt32 = 0x0000_0803
    if expected == images && found == labels {
      return "this is an IDX labels file (2049); pass the images file (…-images-idx3-ubyte)."
    }
    if expected == labels && found == images {
      return "this is an IDX images file (2051); pass the labels file (…-labels-idx1-ubyte)."
    }
    if found.byteSwapped == expected {
      return "the header was written little-endian; IDX integers are big-endian."
    }
    if found >> 16 == 0x1F8B {
      return "this looks like gzip data that was not recognised; decompress it with `gunzip`."
    }
    if found >> 16 != 0 {
      return "this is not an IDX file (IDX files start with two zero bytes); "
        + "check the path and file name."
    }
    return "this IDX file has the wrong element type or number of dimensions; "
      + "check that you passed the right file."
  }
}

/// The dataset formats that are read from a directory of named files.
public enum DatasetFormat: String, Sendable, Equatable {
  /// CIFAR-10's binary version: `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`.
  case cifar10 = "CIFAR-10 binary"
  /// MNIST-format IDX files.
  case mnist = "MNIST-format IDX"

  /// Where the data comes from and what `--data-dir` must hold.
  var whereToGetData: String {
    switch self {
    case .cifar10:
      return "pass --data-dir DIR holding data_batch_1.bin … data_batch_5.bin and test_batch.bin "
        + "(and batches.meta.txt): the folder cifar-10-batches-bin of "
        + "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, or a sample in the same format."
    case .mnist:
      return DatasetError.whereToGetData
    }
  }
}

/// `value` as upper-case hexadecimal, zero-padded to `digits`.
func hex(_ value: UInt32, digits: Int = 8) -> String {
  let text = String(value, radix: 16, uppercase: true)
  return String(repeating: "0", count: max(0, digits - text.count)) + text
}
