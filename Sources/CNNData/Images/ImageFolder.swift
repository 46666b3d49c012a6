import CNNKernels
import Foundation

/// A labelled image dataset laid out as folders: `root/<class>/<image>.png`.
///
/// Class folders are sorted by name and numbered from 0 (torchvision's `ImageFolder`); images
/// (`.png`, `.pgm`, `.ppm`) are read in file-name order and decoded by CNNKit's own PNG
/// decoder. Hidden files and other extensions are skipped. Every image becomes `channels`
/// channels (colour to grey by luma, grey copied to RGB, alpha dropped), and either all images
/// must have the first one's size (``Sizing/checked``) or each is resized
/// (``Sizing/resized(width:height:)``, bilinear with antialiasing).
///
///     let folder = try ImageFolder(root: URL(fileURLWithPath: "pets"))  // pets/train, pets/test
///     trainer.fit(folder.training, test: folder.test, …)
///
/// With `root/train/` and `root/test/` (or `root/val/`) sub-folders those are the splits, the
/// test classes being matched to the training classes by name. Otherwise `root` holds the class
/// folders and every tenth image of each class (the 10th, 20th, … by file name) is the test
/// split.
public struct ImageFolder: Sendable {
  /// How images of different sizes are handled.
  public enum Sizing: Sendable, Equatable {
    /// Every image must have the first image's size.
    case checked
    /// Every image is resized to `width × height`.
    case resized(width: Int, height: Int)
  }

  /// The image extensions read (lower case).
  public static let extensions: Set<String> = ["png", "pgm", "ppm"]

  /// The training split.
  public let training: Dataset
  /// The test split.
  public let test: Dataset

  /// Reads `root` (see ``ImageFolder``).
  ///
  /// - Parameters:
  ///   - channels: 1 (grey) or 3 (colour); `nil` to take it from the first image (grey if it
  ///     has no colour, else RGB).
  ///   - sizing: Check that all images have one size, or resize them.
  /// - Throws: `DatasetError`: `.directoryNotFound`, `.noClassFolders`, `.emptyClassFolder`,
  ///   `.imageSizeMismatch`, `.unknownClasses`; or the image's own `PNGError`/`ImageFileError`.
  public init(root: URL, channels: Int? = nil, sizing: Sizing = .checked) throws {
    if let channels, channels != 1 && channels != 3 {
      throw DatasetError.invalidSetting(name: "channels", value: "\(channels)", expected: "1 (grey) or 3 (colour)")
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw DatasetError.directoryNotFound(path: root.path)
    }
    let trainRoot = root.appendingPathComponent("train")
    let testRoot = ["test", "val"].map { root.appendingPathComponent($0) }.first { Self.isDirectory($0) }
    if Self.isDirectory(trainRoot), let testRoot {
      let trainFiles = try Self.listing(trainRoot)
      let known = trainFiles.map(\.name)
      let testFiles = try Self.listing(testRoot)
      let unknown = testFiles.map(\.name).filter { !known.contains($0) }
      guard unknown.isEmpty else {
        throw DatasetError.unknownClasses(path: testRoot.path, classes: unknown, known: known)
      }
      var reader = Reader(channels: channels, sizing: sizing)
      training = try reader.dataset(trainFiles.enumerated().flatMap { label, folder in folder.files.map { ($0, label) } },
        classNames: known)
      test = try reader.dataset(
        testFiles.flatMap { folder in folder.files.map { ($0, known.firstIndex(of: folder.name) ?? 0) } },
        classNames: known)
    } else {
      let folders = try Self.listing(root)
      var trainItems: [(URL, Int)] = [], testItems: [(URL, Int)] = []
      for (label, folder) in folders.enumerated() {
        for (index, file) in folder.files.enumerated() {
          if index % 10 == 9 { testItems.append((file, label)) } else { trainItems.append((file, label)) }
        }
      }
      var reader = Reader(channels: channels, sizing: sizing)
      let names = folders.map(\.name)
      training = try reader.dataset(trainItems, classNames: names)
      test = try reader.dataset(testItems, classNames: names)
    }
  }

  /// Reads one folder of class folders as one dataset (no split).
  public static func dataset(at root: URL, channels: Int? = nil, sizing: Sizing = .checked) throws -> Dataset {
    guard isDirectory(root) else { throw DatasetError.directoryNotFound(path: root.path) }
    let folders = try listing(root)
    var reader = Reader(channels: channels, sizing: sizing)
    return try reader.dataset(
      folders.enumerated().flatMap { label, folder in folder.files.map { ($0, label) } }, classNames: folders.map(\.name))
  }

  private static func isDirectory(_ url: URL) -> Bool {
    var flag: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
  }

  /// The class folders of `root`, sorted, each with its image files, sorted.
  private static func listing(_ root: URL) throws -> [(name: String, files: [URL])] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    let folders = names.filter { !$0.hasPrefix(".") && isDirectory(root.appendingPathComponent($0)) }.sorted()
    guard !folders.isEmpty else { throw DatasetError.noClassFolders(path: root.path) }
    return try folders.map { name in
      let folder = root.appendingPathComponent(name)
      let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { !$0.hasPrefix(".") && extensions.contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
        .sorted().map { folder.appendingPathComponent($0) }
      guard !files.isEmpty else { throw DatasetError.emptyClassFolder(path: folder.path) }
      return (name, files)
    }
  }

  /// Decodes images to one channel count and size, fixed by the first image unless given.
  private struct Reader {
    var channels: Int?
    var sizing: Sizing
    var size: (width: Int, height: Int)?
    var firstFile = ""

    init(channels: Int?, sizing: Sizing) {
      self.channels = channels
      self.sizing = sizing
      if case .resized(let width, let height) = sizing { size = (width, height) }
    }

    mutating func dataset(_ items: [(URL, Int)], classNames: [String]) throws -> Dataset {
      if case .resized(let width, let height) = sizing {
        // Every image becomes width × height × (at most 3) bytes: check the whole split first.
        try MemoryBudget.check(
          MemoryBudget.bytes([items.count, width, height, channels ?? 3]),
          for: "\(items.count) images resized to \(width)×\(height)", from: "the image size \(width)x\(height)")
      }
      var pixels: [UInt8] = []
      var labels: [Int] = []
      for (url, label) in items {
        pixels += try planar(url)
        labels.append(label)
      }
      guard let channels, let size else {
        throw DatasetError.noClassFolders(path: "(no images)")
      }
      return Dataset(
        images: pixels, labels: labels, channels: channels, height: size.height, width: size.width,
        classNames: classNames)
    }

    /// One image as planar `[C, H, W]` bytes.
    mutating func planar(_ url: URL) throws -> [UInt8] {
      var image = try Image.read(from: url.path)
      let count = channels ?? (image.channels >= 3 ? 3 : 1)
      channels = count
      image = image.converted(toChannels: count)
      switch sizing {
      case .resized(let width, let height): image = image.resized(width: width, height: height)
      case .checked:
        if let size {
          guard size.width == image.width, size.height == image.height else {
            throw DatasetError.imageSizeMismatch(
              file: url.path, expected: "\(size.width)×\(size.height) (like \(firstFile))",
              found: "\(image.width)×\(image.height)")
          }
        } else {
          size = (image.width, image.height)
          firstFile = url.lastPathComponent
        }
      }
      let plane = image.width * image.height
      var out = [UInt8](repeating: 0, count: plane * count)
      for p in 0..<plane {
        for c in 0..<count { out[c * plane + p] = image.pixels[p * count + c] }
      }
      return out
    }
  }
}
