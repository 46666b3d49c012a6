import Foundation

/// Which data a run reads, in a form that can be saved with the run and loaded again: the
/// kind of dataset, its directory, and for an image folder how its images are sized.
///
///     let data = try DatasetSpecification(kind: .cifar10, directory: "cifar-10-batches-bin").load()
///     // data.training: 50,000 images [3, 32, 32]; data.test: 10,000
public struct DatasetSpecification: Codable, Sendable, Equatable {
  /// The kinds of dataset CNNKit reads (`cnn train --dataset`).
  public enum Kind: String, Codable, CaseIterable, Sendable {
    /// The 5,000-image MNIST sample bundled with CNNData.
    case mnistSample = "mnist-sample"
    /// MNIST-format IDX files in `directory`.
    case mnist
    /// Fashion-MNIST, by default from Debian's `dataset-fashion-mnist` (``MNIST/fashionDirectory``).
    case fashionMNIST = "fashion-mnist"
    /// CIFAR-10's binary batches in `directory`.
    case cifar10
    /// `directory/<class>/<image>.png` (or with `train/` and `test/` splits).
    case folder
  }

  /// An image size, width by height, for resizing an image folder (`32x32`).
  public struct ImageSize: Codable, Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
      self.width = width
      self.height = height
    }

    /// Reads `"32x32"` or `"32×32"` (width first); `nil` unless both are whole numbers in
    /// `1...maximum`.
    public init?(parsing text: String, maximum: Int = 4096) {
      let parts = text.split { $0 == "x" || $0 == "×" || $0 == "X" }
      guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
        (1...maximum).contains(width), (1...maximum).contains(height)
      else { return nil }
      self.init(width: width, height: height)
    }

    /// `32x32`.
    public var description: String { "\(width)x\(height)" }
  }

  /// The kind of dataset.
  public var kind: Kind
  /// The directory, as an absolute path, or `nil` for the kind's default location.
  public var directory: String?
  /// For an image folder: the size every image is resized to, or `nil` to require one size.
  public var imageSize: ImageSize?
  /// For an image folder: 1 (grey) or 3 (colour), or `nil` to take the first image's.
  public var channels: Int?

  /// Creates a specification; a relative `directory` is made absolute against the current
  /// directory, so a saved run finds its data from anywhere.
  public init(kind: Kind, directory: String? = nil, imageSize: ImageSize? = nil, channels: Int? = nil) {
    self.kind = kind
    self.directory = directory.map {
      URL(fileURLWithPath: $0, isDirectory: true).standardizedFileURL.path
    }
    self.imageSize = imageSize
    self.channels = channels
  }

  /// The bundled MNIST sample, CNNKit's default data.
  public static let mnistSample = DatasetSpecification(kind: .mnistSample)

  /// Reads the training and test splits.
  /// - Throws: `DatasetError` when the files are missing or malformed, with a hint.
  public func load() throws -> (training: Dataset, test: Dataset) {
    let url = directory.map { URL(fileURLWithPath: $0, isDirectory: true) }
    if let url, kind != .mnistSample {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw DatasetError.dataDirectoryNotFound(path: url.path, kind: kind.rawValue, contents: contents)
      }
    }
    if let channels, channels != 1 && channels != 3 {
      throw DatasetError.invalidSetting(name: "channels", value: "\(channels)", expected: "1 (grey) or 3 (colour)")
    }
    switch kind {
    case .mnistSample:
      let data = try MNIST.bundledSample()
      return (data.training, data.test)
    case .mnist:
      guard let url else { throw DatasetError.directoryRequired(kind: kind.rawValue, contents: Self.mnistFiles) }
      let data = try MNIST(directory: url)
      return (data.training, data.test)
    case .fashionMNIST:
      let folder = url ?? MNIST.fashionDirectory
      if url == nil && !FileManager.default.fileExists(atPath: folder.path) {
        throw DatasetError.notInstalled(
          name: "Fashion-MNIST", path: folder.path,
          hint: "install it with `apt-get install -y dataset-fashion-mnist` (Debian 12, as root), or pass "
            + "--data-dir DIR holding its four IDX files (train-images-idx3-ubyte.gz, …).")
      }
      let data = try MNIST.fashion(directory: folder)
      return (data.training, data.test)
    case .cifar10:
      guard let url else {
        throw DatasetError.directoryRequired(kind: kind.rawValue, contents: Self.cifarFiles)
      }
      let data = try CIFAR10(directory: url)
      return (data.training, data.test)
    case .folder:
      guard let url else {
        throw DatasetError.directoryRequired(kind: kind.rawValue, contents: "ROOT/<class>/<image>.png")
      }
      let sizing = imageSize.map { ImageFolder.Sizing.resized(width: $0.width, height: $0.height) }
      let data = try ImageFolder(root: url, channels: channels, sizing: sizing ?? .checked)
      return (data.training, data.test)
    }
  }

  /// What the kind's directory holds, for hints.
  var contents: String {
    switch kind {
    case .mnistSample, .mnist, .fashionMNIST: return Self.mnistFiles
    case .cifar10: return Self.cifarFiles
    case .folder: return "ROOT/<class>/<image>.png"
    }
  }

  private static let cifarFiles =
    "data_batch_1.bin … and test_batch.bin (the folder cifar-10-batches-bin of the binary version)"

  private static let mnistFiles =
    "train-images-idx3-ubyte[.gz] and the other three IDX files (or use --dataset mnist-sample for the bundled sample)"

  /// A short description for reports: `cifar10 (/data/cifar-10-batches-bin)`.
  public var summary: String {
    var text = kind.rawValue
    if let directory { text += " (\(directory))" }
    if let imageSize { text += ", resized to \(imageSize)" }
    return text
  }
}
