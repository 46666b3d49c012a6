import Foundation
import Testing

@testable import CNNData

/// Inputs whose headers or kinds lie: a PNG declaring a billion pixels, a FIFO or a device
/// given as a file, a dataset setting out of range. Each is refused before anything is read or
/// allocated, with a message naming the file or setting.
@Suite struct InputLiesTests {
  /// A PNG whose header declares `width × height` grey pixels, followed by a few bytes of IDAT
  /// (the decoder must refuse it before inflating anything).
  static func declaring(width: UInt32, height: UInt32) -> [UInt8] {
    let header = bigEndian(width) + bigEndian(height) + [8, 0, 0, 0, 0]
    return PNG.signature + chunk("IHDR", header) + chunk("IDAT", [0x78, 0x01, 0x03, 0x00]) + chunk("IEND", [])
  }

  @Test func aPNGDeclaringABillionPixelsIsRefusedBeforeInflating() {
    let error = pngError { try PNGDecoder.decode(Self.declaring(width: 32_000, height: 32_000), file: "bomb.png") }
    #expect(error == .tooLarge(file: "bomb.png", width: 32_000, height: 32_000))
    #expect(error?.description.contains("bomb.png") == true)
  }

  /// Makes a FIFO and a character device (the numbers of the system's "zero" device) in a
  /// fresh temporary directory; nothing outside it is touched.
  @Test func fifosDevicesAndDirectoriesAreRefusedByKind() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let fifo = directory.url.appendingPathComponent("pipe.png").path
    #expect(mkfifo(fifo, 0o600) == 0)
    #expect(InputFile.problem(at: fifo) == "it is a FIFO (named pipe), not a regular file")
    let imageError = #expect(throws: ImageFileError.self) { try Image.read(from: fifo) }
    #expect(imageError?.description.contains("FIFO") == true)
    let idxError = datasetError { try IDX.read(contentsOf: URL(fileURLWithPath: fifo)) }
    #expect(idxError?.description.contains("FIFO") == true, "\(String(describing: idxError))")

    let device = directory.url.appendingPathComponent("zero.png").path
    if mknod(device, S_IFCHR | 0o600, (1 << 8) | 5) == 0 {  // needs root; skipped otherwise
      #expect(InputFile.problem(at: device) == "it is a character device, not a regular file")
      #expect(throws: ImageFileError.notARegularFile(path: device, reason: "it is a character device, not a regular file")) {
        try Image.read(from: device)
      }
    }
    #expect(InputFile.problem(at: directory.url.path) == "it is a directory, not a regular file")
    let file = try directory.write("plain.bin", [1, 2, 3])
    #expect(InputFile.problem(at: file.path) == nil)
  }

  @Test(arguments: [0, 2, 4]) func folderChannelsOtherThanOneOrThreeAreRefused(channels: Int) throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let specification = DatasetSpecification(kind: .folder, directory: directory.url.path, channels: channels)
    let error = datasetError { try specification.load() }
    #expect(error == .invalidSetting(name: "channels", value: "\(channels)", expected: "1 (grey) or 3 (colour)"))
  }

  @Test func aMissingDataDirectoryNamesTheKindsOwnFiles() {
    let error = datasetError { try DatasetSpecification(kind: .cifar10, directory: "/nonexistent-cnnkit-test").load() }
    #expect(error?.description.contains("test_batch.bin") == true, "\(String(describing: error))")
    #expect(error?.description.contains("train-images") == false)
  }

  @Test func anEmptyCIFARMetaFileSaysSo() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let meta = try directory.write(CIFAR10.metaFileName, [])
    let error = datasetError { try CIFAR10.readClassNames(meta) }
    #expect(error == .emptyClassList(file: meta.path))
    #expect(error?.description.contains("IDX") == false)
  }
}
