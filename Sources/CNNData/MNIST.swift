import Foundation

/// MNIST-format image classification data: a training and a test split of 1-channel images.
///
/// Reads the four standard IDX files from a directory, each plain or gzip:
///
///     train-images-idx3-ubyte   train-labels-idx1-ubyte   (also …-idx3-ubyte.gz, …)
///     t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte    (also t10k-images.idx3-ubyte)
///
/// The same layout serves MNIST digits, Fashion-MNIST (``fashion(directory:)``) and the
/// 5,000-image MNIST sample bundled with this module (``bundledSample()``). Image counts and
/// sizes come from the headers; images and labels must agree in count and every label must
/// be below the number of class names.
public struct MNIST: Sendable {
  /// The training split, `[N, 1, H, W]` (28 × 28 for MNIST).
  public let training: Dataset
  /// The test split.
  public let test: Dataset

  /// The class names of MNIST digits: `"0"` … `"9"`.
  public static let digitClassNames: [String] = (0...9).map(String.init)

  /// The class names of Fashion-MNIST, indexed by label.
  public static let fashionClassNames: [String] = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
  ]

  /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
  public static let fashionDirectory = URL(
    fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)

  /// The base names of the four files: training images and labels, test images and labels.
  public static let fileStems = [
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
  ]

  /// Creates MNIST from two datasets.
  public init(training: Dataset, test: Dataset) {
    self.training = training
    self.test = test
  }

  /// Reads the four IDX files in `directory`.
  ///
  /// - Parameters:
  ///   - directory: The folder holding the files, plain or `.gz`.
  ///   - classNames: One name per class; labels must be below `classNames.count`.
  /// - Throws: `DatasetError`: `.directoryNotFound`, `.fileNotFound` (listing the names
  ///   looked for), `.countMismatch`, `.labelOutOfRange`, or a format error of one file.
  public init(directory: URL, classNames: [String] = MNIST.digitClassNames) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
      isDirectory.boolValue
    else { throw DatasetError.directoryNotFound(path: directory.path) }
    let files = try Self.fileStems.map { try Self.locate($0, in: directory) }
    training = try Self.load(images: files[0], labels: files[1], classNames: classNames)
    test = try Self.load(images: files[2], labels: files[3], classNames: classNames)
  }

  /// The real MNIST sample bundled with CNNData: 4,000 training and 1,000 test images,
  /// 400 and 100 of each digit (see the module's `Resources/mnist-sample`).
  public static func bundledSample() throws -> MNIST {
    guard let directory = bundledSampleDirectory else {
      throw DatasetError.directoryNotFound(path: "\(Bundle.module.bundlePath)/mnist-sample")
    }
    return try MNIST(directory: directory)
  }

  /// The folder of the bundled sample's four `.gz` files.
  static var bundledSampleDirectory: URL? {
    Bundle.module.url(forResource: "mnist-sample", withExtension: nil)
  }

  /// Fashion-MNIST (Xiao et al., 2017) from `directory`, with ``fashionClassNames``.
  ///
  /// Install it with `apt-get install -y dataset-fashion-mnist` (Debian 12) to use the
  /// default directory, `/usr/share/datasets/fashion-mnist`.
  public static func fashion(directory: URL = fashionDirectory) throws -> MNIST {
    try MNIST(directory: directory, classNames: fashionClassNames)
  }

  /// Reads an images file and its labels file as one dataset.
  ///
  /// - Throws: `DatasetError` if either file is malformed, the counts differ, or a label is
  ///   not below `classNames.count`.
  public static func load(images: URL, labels: URL, classNames: [String]) throws -> Dataset {
    let pixels = try IDX.read(contentsOf: images, expectedMagic: IDX.imagesMagic)
    let classes = try IDX.read(contentsOf: labels, expectedMagic: IDX.labelsMagic)
    let (count, height, width) = (pixels.dimensions[0], pixels.dimensions[1], pixels.dimensions[2])
    guard count == classes.dimensions[0] else {
      throw DatasetError.countMismatch(
        imagesFile: images.path, imageCount: count,
        labelsFile: labels.path, labelCount: classes.dimensions[0])
    }
    if let index = classes.bytes.firstIndex(where: { Int($0) >= classNames.count }) {
      throw DatasetError.labelOutOfRange(
        file: labels.path, index: index, label: Int(classes.bytes[index]),
        classCount: classNames.count)
    }
    guard height > 0, width > 0 else {
      throw DatasetError.implausibleHeader(
        file: images.path, reason: "its images are \(height) × \(width) pixels")
    }
    return Dataset(
      images: pixels.bytes, labels: classes.bytes.map(Int.init), channels: 1,
      height: height, width: width, classNames: classNames)
  }

  /// The file for `stem` in `directory`: `stem`, `stem.gz`, or the dotted variant
  /// (`t10k-images.idx3-ubyte`), plain or `.gz`, whichever exists first.
  static func locate(_ stem: String, in directory: URL) throws -> URL {
    let dotted = stem.replacingOccurrences(of: "-idx", with: ".idx")
    let names = [stem, stem + ".gz", dotted, dotted + ".gz"]
    for name in names {
      let url = directory.appendingPathComponent(name)
      if FileManager.default.fileExists(atPath: url.path) { return url }
    }
    throw DatasetError.fileNotFound(
      path: directory.appendingPathComponent(stem).path, triedPaths: names)
  }
}
