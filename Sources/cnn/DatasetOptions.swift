import ArgumentParser
import CNNKit
import Foundation

/// `--dataset`, `--data-dir` and the image-folder options, shared by every command that reads data.
struct DatasetOptions: ParsableArguments {
  @Option(
    help: """
      The data: \(DatasetSpecification.Kind.allCases.map(\.rawValue).joined(separator: ", ")) (default: mnist with \
      --data-dir, else mnist-sample; for a checkpoint, the data it was trained on).
      """)
  var dataset: DatasetSpecification.Kind?

  @Option(
    help: """
      The data's directory: the four MNIST-format IDX files (mnist, fashion-mnist), the CIFAR-10 binary \
      batches (cifar10), or class folders (folder). fashion-mnist defaults to \(MNIST.fashionDirectory.path).
      """)
  var dataDir: String?

  @Option(help: "With --dataset folder: resize every image to W×H, e.g. 32x32, up to 4096x4096 (default: all must have one size).")
  var imageSize: DatasetSpecification.ImageSize?

  @Option(help: "With --dataset folder: 1 (grey) or 3 (colour); default: from the first image.")
  var channels: Int?

  func validate() throws {
    if let channels, channels != 1 && channels != 3 {
      throw ValidationError("--channels must be 1 or 3 (got \(channels)).")
    }
    let kind = dataset ?? (dataDir == nil ? .mnistSample : .mnist)
    if kind != .folder && (imageSize != nil || channels != nil) {
      throw ValidationError("--image-size and --channels apply to --dataset folder only (the data is \(kind.rawValue)).")
    }
  }

  /// Whether any of the options was given.
  var isGiven: Bool { dataset != nil || dataDir != nil || imageSize != nil || channels != nil }

  /// The data these options name: `mnist` when only `--data-dir` is given, the bundled sample
  /// when nothing is.
  var specification: DatasetSpecification {
    DatasetSpecification(
      kind: dataset ?? (dataDir == nil ? .mnistSample : .mnist), directory: dataDir, imageSize: imageSize,
      channels: channels)
  }

  /// The data for a model that records its own: the options when given, else `saved`.
  /// `--data-dir` alone keeps the saved kind (the data has moved).
  func specification(saved: DatasetSpecification?) -> DatasetSpecification? {
    guard let saved else { return isGiven ? specification : nil }
    guard isGiven else { return saved }
    if dataset == nil, imageSize == nil, channels == nil, let dataDir {
      var moved = saved
      moved.directory = DatasetSpecification(kind: saved.kind, directory: dataDir).directory
      return moved
    }
    return specification
  }
}

/// A problem found while running a command (not in its arguments), printed as `Error: …`
/// without the usage text that `ValidationError` adds.
struct CommandError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
