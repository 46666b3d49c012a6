import Foundation
import Testing

@testable import CNNData

/// A temporary image-folder tree, removed at the end of the test.
private struct Tree {
  let root: URL

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("ImageFolderTests-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }

  /// Writes a `width × height` image of `channels` filled with `value` at `path` (under root).
  func image(_ path: String, width: Int = 3, height: Int = 2, channels: Int = 1, value: UInt8) throws {
    let url = root.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Image(width: width, height: height, filledWith: [UInt8](repeating: value, count: channels)).write(to: url.path)
  }

  func folder(_ path: String) throws {
    try FileManager.default.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true)
  }

  func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite struct ImageFolderTests {
  @Test func classesAreSortedFoldersAndImagesArePlanar() throws {
    let tree = try Tree()
    defer { tree.remove() }
    try tree.image("train/dog/a.png", channels: 3, value: 10)
    try tree.image("train/cat/b.png", channels: 3, value: 20)
    try tree.image("train/cat/a.png", channels: 3, value: 30)
    try tree.image("test/dog/z.png", channels: 3, value: 40)
    let folder = try ImageFolder(root: tree.root)
    #expect(folder.training.classNames == ["cat", "dog"])
    #expect(folder.training.labels == [0, 0, 1])
    #expect((folder.training.channels, folder.training.height, folder.training.width) == (3, 2, 3))
    #expect(folder.training[0].pixels.allSatisfy { $0 == 30 })  // cat/a.png before cat/b.png
    #expect(folder.test.labels == [1])
    #expect(folder.test.classNames == ["cat", "dog"])
  }

  @Test func withoutSplitsEveryTenthImageIsHeldOut() throws {
    let tree = try Tree()
    defer { tree.remove() }
    for i in 0..<12 { try tree.image("digits/\(String(format: "%02d", i)).png", value: UInt8(i)) }
    try tree.image("letters/a.png", value: 99)
    let folder = try ImageFolder(root: tree.root)
    #expect(folder.training.count == 12)
    #expect(folder.test.count == 1)
    #expect(folder.test[0].pixels.first == 9)
  }

  @Test func greyAndColourAreConvertedAndSizesResized() throws {
    let tree = try Tree()
    defer { tree.remove() }
    try tree.image("a/grey.png", width: 4, height: 4, channels: 1, value: 100)
    try tree.image("b/colour.png", width: 8, height: 6, channels: 3, value: 200)
    let dataset = try ImageFolder.dataset(at: tree.root, channels: 3, sizing: .resized(width: 2, height: 2))
    #expect((dataset.channels, dataset.height, dataset.width) == (3, 2, 2))
    #expect(dataset[0].pixels.allSatisfy { $0 == 100 })
    #expect(dataset[1].pixels.allSatisfy { $0 == 200 })
  }

  @Test func errorsNameTheFolderOrFile() throws {
    let tree = try Tree()
    defer { tree.remove() }
    #expect(datasetError { try ImageFolder(root: tree.root) } == .noClassFolders(path: tree.root.path))
    try tree.image("a/one.png", value: 1)
    try tree.folder("b")
    let empty = datasetError { try ImageFolder(root: tree.root) }
    #expect(empty == .emptyClassFolder(path: tree.root.appendingPathComponent("b").path))
    #expect(empty?.hint.contains("at least one") == true)
    try tree.image("b/big.png", width: 5, height: 5, value: 2)
    let mismatch = datasetError { try ImageFolder(root: tree.root) }
    if case .imageSizeMismatch(let file, _, let found)? = mismatch {
      #expect(file.hasSuffix("b/big.png") && found == "5×5")
    } else {
      Issue.record("expected imageSizeMismatch, got \(String(describing: mismatch))")
    }
    #expect(mismatch?.hint.contains("--image-size") == true)
    let missing = tree.root.appendingPathComponent("nowhere")
    #expect(datasetError { try ImageFolder(root: missing) } == .directoryNotFound(path: missing.path))
  }

  @Test func testClassesMustBeTrainingClasses() throws {
    let tree = try Tree()
    defer { tree.remove() }
    try tree.image("train/a/1.png", value: 1)
    try tree.image("test/z/1.png", value: 1)
    let error = datasetError { try ImageFolder(root: tree.root) }
    #expect(error == .unknownClasses(path: tree.root.appendingPathComponent("test").path, classes: ["z"], known: ["a"]))
  }
}
