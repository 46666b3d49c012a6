import ArgumentParser
import CNNKit
import Foundation

/// The datasets `cnn train` and `cnn evaluate` read (`--dataset`).
enum DatasetName: String, CaseIterable, ExpressibleByArgument {
  /// The 5,000-image MNIST sample bundled with CNNData.
  case mnistSample = "mnist-sample"
  /// MNIST-format IDX files in `--data-dir`.
  case mnist
  /// Fashion-MNIST, by default from Debian's `dataset-fashion-mnist`.
  case fashionMNIST = "fashion-mnist"
  /// CIFAR-10's binary batches in `--data-dir`.
  case cifar10
  /// `--data-dir/<class>/<image>.png` (or with train/ and test/ splits).
  case folder
}

/// `--dataset`, `--data-dir` and the image-folder options, shared by `train` and `evaluate`.
struct DatasetOptions: ParsableArguments {
  @Option(
    help: """
      The data: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")) (default: mnist with \
      --data-dir, else mnist-sample).
      """)
  var dataset: DatasetName?

  @Option(
    help: """
      The data's directory: the four MNIST-format IDX files (mnist, fashion-mnist), the CIFAR-10 binary \
      batches (cifar10), or class folders (folder). fashion-mnist defaults to \(MNIST.fashionDirectory.path).
      """)
  var dataDir: String?

  @Option(help: "With --dataset folder: resize every image to W×H, e.g. 32x32 (default: all must have one size).")
  var imageSize: String?

  @Option(help: "With --dataset folder: 1 (grey) or 3 (colour); default: from the first image.")
  var channels: Int?

  func validate() throws {
    if let imageSize, parseSize(imageSize) == nil {
      throw ValidationError("--image-size must read W×H, e.g. 32x32 (got \(imageSize)).")
    }
    if let channels, channels != 1 && channels != 3 {
      throw ValidationError("--channels must be 1 or 3 (got \(channels)).")
    }
  }

  /// The data these options name; `saved` (a checkpoint's `extra`) fills in what is not given.
  func source(saved: [String: String] = [:]) throws -> DatasetSource {
    if dataset == nil && dataDir == nil, let name = saved[DatasetSource.Key.dataset].flatMap(DatasetName.init) {
      // Checkpoints written before the key was left out for default locations say "bundled".
      let directory = saved[DatasetSource.Key.dataDirectory].flatMap { $0 == "bundled" ? nil : $0 }
      return DatasetSource(
        name: name, directory: directory, imageSize: saved[DatasetSource.Key.imageSize],
        channels: saved[DatasetSource.Key.channels].flatMap(Int.init))
    }
    return DatasetSource(
      name: dataset ?? (dataDir == nil ? .mnistSample : .mnist), directory: dataDir, imageSize: imageSize,
      channels: channels)
  }
}

/// A resolved choice of data, which can be loaded and recorded in a checkpoint.
struct DatasetSource {
  var name: DatasetName
  var directory: String?
  var imageSize: String?
  var channels: Int?

  enum Key {
    static let dataset = "dataset"
    static let dataDirectory = "data_dir"
    static let imageSize = "image_size"
    static let channels = "channels"
  }

  /// What a checkpoint records to load the same data again: the directory as an absolute
  /// path (so `cnn evaluate` finds it from anywhere), and none for a default location.
  var extra: [String: String] {
    var extra = [Key.dataset: name.rawValue]
    if let directory, name != .mnistSample {
      extra[Key.dataDirectory] = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL.path
    }
    if let imageSize { extra[Key.imageSize] = imageSize }
    if let channels { extra[Key.channels] = String(channels) }
    return extra
  }

  /// Reads the training and test splits.
  func load() throws -> (training: Dataset, test: Dataset) {
    let url = directory.map { URL(fileURLWithPath: $0, isDirectory: true) }
    switch name {
    case .mnistSample:
      let data = try MNIST.bundledSample()
      return (data.training, data.test)
    case .mnist:
      guard let url else {
        throw CommandError(
          "--dataset mnist needs --data-dir DIR holding train-images-idx3-ubyte[.gz] and the other three IDX files "
            + "(or use --dataset mnist-sample for the bundled sample).")
      }
      let data = try MNIST(directory: url)
      return (data.training, data.test)
    case .fashionMNIST:
      let folder = url ?? MNIST.fashionDirectory
      if url == nil && !FileManager.default.fileExists(atPath: folder.path) {
        throw CommandError(
          "Fashion-MNIST is not installed in \(folder.path).\n---> HINT: install it with "
            + "`apt-get install -y dataset-fashion-mnist` (Debian 12, as root), or pass --data-dir DIR "
            + "holding its four IDX files (train-images-idx3-ubyte.gz, …).")
      }
      let data = try MNIST.fashion(directory: folder)
      return (data.training, data.test)
    case .cifar10:
      guard let url else {
        throw CommandError(
          "--dataset cifar10 needs --data-dir DIR holding data_batch_1.bin … and test_batch.bin "
            + "(the folder cifar-10-batches-bin of the binary version).")
      }
      let data = try CIFAR10(directory: url)
      return (data.training, data.test)
    case .folder:
      guard let url else {
        throw CommandError("--dataset folder needs --data-dir ROOT laid out as ROOT/<class>/<image>.png.")
      }
      let sizing = imageSize.flatMap(parseSize).map { ImageFolder.Sizing.resized(width: $0.width, height: $0.height) }
      let data = try ImageFolder(root: url, channels: channels, sizing: sizing ?? .checked)
      return (data.training, data.test)
    }
  }
}

/// `"32x32"` or `"32×32"` → width 32, height 32.
private func parseSize(_ text: String) -> (width: Int, height: Int)? {
  let parts = text.split { $0 == "x" || $0 == "×" }.compactMap { Int($0) }
  guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0 <= 4096 }) else { return nil }
  return (parts[0], parts[1])
}

/// A problem found while running a command (not in its arguments), printed as `Error: …`
/// without the usage text that `ValidationError` adds.
struct CommandError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
