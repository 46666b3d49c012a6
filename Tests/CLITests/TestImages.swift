import Foundation

/// A minimal PNG writer for test inputs, independent of CNNKit's own encoder: 8-bit grey,
/// no row filters, and zlib "stored" (uncompressed) blocks.
enum TestPNG {
  /// The PNG bytes of a `width × height` grey image whose pixel `(x, y)` is `pixel(x, y)`.
  static func grey(width: Int, height: Int, pixel: (Int, Int) -> UInt8) -> Data {
    var raw: [UInt8] = []
    for y in 0..<height {
      raw.append(0)  // filter type None
      for x in 0..<width { raw.append(pixel(x, y)) }
    }
    var header: [UInt8] = []
    header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
    header += [8, 0, 0, 0, 0]  // bit depth 8, grey, deflate, adaptive filters, no interlace
    var png = pngSignature
    png += chunk("IHDR", header) + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
    return Data(png)
  }

  /// Writes a grey image to `url`.
  static func write(to url: URL, width: Int, height: Int, pixel: (Int, Int) -> UInt8) throws {
    try grey(width: width, height: height, pixel: pixel).write(to: url)
  }

  static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
  }

  private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
      let count = min(65_535, data.count - offset)
      let last: UInt8 = offset + count == data.count ? 1 : 0
      out += [last, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
      out += data[offset..<(offset + count)]
      offset += count
    } while offset < data.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in data {
      a = (a + UInt32(byte)) % 65_521
      b = (b + a) % 65_521
    }
    return out + bigEndian(b << 16 | a)
  }

  private static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }

  static func bigEndian(_ value: UInt32) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
  }
}

/// A tiny image-folder dataset for `--dataset folder`: `root/<class>/<n>.png`, 12×12 grey,
/// 20 images per class (every tenth is the test split), each class a bright bar in its own
/// band of rows, on a background of seeded noise.
enum TinyFolderDataset {
  static let classNames = ["bottom", "middle", "top"]
  static let side = 12
  static let imagesPerClass = 20

  /// Writes the dataset under `root` and returns `root`.
  @discardableResult
  static func write(to root: URL) throws -> URL {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func noise() -> UInt8 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 59)  // 0…31
    }
    for (index, name) in classNames.enumerated() {
      let folder = root.appendingPathComponent(name, isDirectory: true)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let band = (side - 4 * (index + 1))..<(side - 4 * index)
      for n in 0..<imagesPerClass {
        let shift = n % 3
        try TestPNG.write(
          to: folder.appendingPathComponent(String(format: "%02d.png", n)), width: side, height: side
        ) { x, y in
          band.contains(y) && (shift..<(side - 2 + shift)).contains(x) ? 220 + noise() : noise()
        }
      }
    }
    return root
  }
}

extension TestPNG {
  /// A PNG whose header declares `width × height` grey pixels but holds a few bytes of data:
  /// a reader must refuse it from the header, before inflating anything.
  static func declaring(width: Int, height: Int) -> Data {
    var header: [UInt8] = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
    header += [8, 0, 0, 0, 0]
    return Data(pngSignature + chunk("IHDR", header) + chunk("IDAT", [0x78, 0x01, 0x03, 0x00]) + chunk("IEND", []))
  }
}

/// MNIST-format IDX files (uncompressed) with all-zero images, for data-shape tests.
enum TestIDX {
  /// Writes the four files to `directory`: `training` images of `trainingSize` (height, width)
  /// and `test` images of `testSize`, labels cycling through 0…9.
  static func write(
    to directory: URL, training: Int, trainingSize: (Int, Int) = (28, 28), test: Int, testSize: (Int, Int) = (28, 28)
  ) throws {
    func images(_ count: Int, _ size: (Int, Int)) -> Data {
      Data(bigEndian(2051) + bigEndian(UInt32(count)) + bigEndian(UInt32(size.0)) + bigEndian(UInt32(size.1))
        + [UInt8](repeating: 0, count: count * size.0 * size.1))
    }
    func labels(_ count: Int) -> Data {
      Data(bigEndian(2049) + bigEndian(UInt32(count)) + (0..<count).map { UInt8($0 % 10) })
    }
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try images(training, trainingSize).write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
    try labels(training).write(to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
    try images(test, testSize).write(to: directory.appendingPathComponent("t10k-images-idx3-ubyte"))
    try labels(test).write(to: directory.appendingPathComponent("t10k-labels-idx1-ubyte"))
  }

  private static func bigEndian(_ value: UInt32) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
  }
}
