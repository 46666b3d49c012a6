import Foundation

// File I/O for pictures: the only file in this module that touches the file system.

/// Why an image or chart file could not be read or written (PNG decoding problems are
/// ``PNGError``s).
public enum ImageFileError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The file does not exist.
  case notFound(path: String)
  /// The file exists but could not be read, or could not be written.
  case ioFailure(path: String, reason: String)
  /// The extension is not one CNNKit reads or writes.
  case unsupportedFormat(path: String, supported: [String])
  /// A netpbm (`.pgm`/`.ppm`) file breaks the format.
  case malformedNetpbm(path: String, reason: String)
  /// The path names a directory, a FIFO, a device or a socket.
  case notARegularFile(path: String, reason: String)

  /// How to fix the problem, in one sentence.
  public var hint: String {
    switch self {
    case .notFound: return "check the path (relative paths start at the current directory)."
    case .ioFailure: return "check that the directory exists and that you may read or write there."
    case .unsupportedFormat(_, let supported):
      return "use one of: " + supported.map { "." + $0 }.joined(separator: ", ") + "."
    case .notARegularFile:
      return "give the path of an image file (PNG, PGM or PPM)."
    case .malformedNetpbm:
      return "only binary 8-bit netpbm (P5 grey, P6 colour, maximum value 255) is read; re-export the image as PNG."
    }
  }

  /// What went wrong and (after `---> HINT:`) how to fix it.
  public var description: String {
    let problem: String
    switch self {
    case .notFound(let path): problem = "\(path): no such file."
    case .ioFailure(let path, let reason): problem = "\(path): \(reason)."
    case .unsupportedFormat(let path, _): problem = "\(path): unsupported image format."
    case .malformedNetpbm(let path, let reason): problem = "\(path): malformed netpbm file: \(reason)."
    case .notARegularFile(let path, let reason): problem = "\(path): cannot read it as an image: \(reason)."
    }
    return "\(problem)\n---> HINT: \(hint)"
  }
}

extension Image {
  /// Reads a PNG (`.png`) or binary netpbm (`.pgm`, `.ppm`) file.
  ///
  /// - Throws: ``ImageFileError`` for a missing file or unknown format, ``PNGError`` for a
  ///   damaged PNG.
  public static func read(from path: String) throws -> Image {
    let bytes = try readBytes(path)
    if bytes.starts(with: PNG.signature) { return try PNGDecoder.decode(bytes, file: path) }
    if bytes.count >= 2 && bytes[0] == 0x50 && (bytes[1] == 0x35 || bytes[1] == 0x36) {
      return try Netpbm.decode(bytes, path: path)
    }
    switch fileExtension(path) {
    case "png": return try PNGDecoder.decode(bytes, file: path)  // throws the signature error
    case "pgm", "ppm": return try Netpbm.decode(bytes, path: path)
    default: throw ImageFileError.unsupportedFormat(path: path, supported: ["png", "pgm", "ppm"])
    }
  }

  /// Writes the image as PNG (`.png`) or binary netpbm (`.pgm` for grey, `.ppm` for colour;
  /// alpha is dropped).
  public func write(to path: String) throws {
    switch fileExtension(path) {
    case "png": try writeBytes(pngData(), to: path)
    case "pgm": try writeBytes(Netpbm.encode(converted(toChannels: 1)), to: path)
    case "ppm": try writeBytes(Netpbm.encode(converted(toChannels: 3)), to: path)
    default: throw ImageFileError.unsupportedFormat(path: path, supported: ["png", "pgm", "ppm"])
    }
  }
}

/// The lower-cased extension of `path` without the dot.
package func fileExtension(_ path: String) -> String {
  URL(fileURLWithPath: path).pathExtension.lowercased()
}

package func readBytes(_ path: String) throws -> [UInt8] {
  guard FileManager.default.fileExists(atPath: path) else { throw ImageFileError.notFound(path: path) }
  if let problem = InputFile.problem(at: path) { throw ImageFileError.notARegularFile(path: path, reason: problem) }
  do {
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  } catch {
    throw ImageFileError.ioFailure(path: path, reason: "cannot read: \(error.localizedDescription)")
  }
}

package func writeBytes(_ bytes: [UInt8], to path: String) throws {
  do {
    try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
  } catch {
    throw ImageFileError.ioFailure(path: path, reason: "cannot write: \(error.localizedDescription)")
  }
}

/// Binary netpbm: `P5` (grey) and `P6` (RGB), maximum value 255.
enum Netpbm {
  static func decode(_ bytes: [UInt8], path: String) throws(ImageFileError) -> Image {
    var position = 2
    // Reads one whitespace-separated decimal header field, skipping `#` comments.
    func field(_ name: String) throws(ImageFileError) -> Int {
      while position < bytes.count {
        if bytes[position] == UInt8(ascii: "#") {
          while position < bytes.count && bytes[position] != 0x0A { position += 1 }
        } else if [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
          position += 1
        } else {
          break
        }
      }
      var value = 0, digits = 0
      while position < bytes.count, (0x30...0x39).contains(bytes[position]), digits < 9 {
        value = value * 10 + Int(bytes[position] - 0x30)
        position += 1
        digits += 1
      }
      guard digits > 0 else { throw .malformedNetpbm(path: path, reason: "the header has no valid \(name)") }
      return value
    }
    let channels = bytes[1] == 0x35 ? 1 : 3
    let width = try field("width"), height = try field("height"), maxValue = try field("maximum value")
    guard width > 0 && height > 0 else { throw .malformedNetpbm(path: path, reason: "size \(width)×\(height) is empty") }
    guard maxValue == 255 else { throw .malformedNetpbm(path: path, reason: "maximum value \(maxValue) is not 255") }
    position += 1  // the single whitespace byte after the maximum value
    let count = width * height * channels
    guard bytes.count - position >= count else {
      throw .malformedNetpbm(path: path, reason: "\(bytes.count - position) bytes of pixels, expected \(count)")
    }
    return Image(width: width, height: height, channels: channels, pixels: Array(bytes[position..<(position + count)]))
  }

  static func encode(_ image: Image) -> [UInt8] {
    Array("P\(image.channels == 1 ? 5 : 6)\n\(image.width) \(image.height)\n255\n".utf8) + image.pixels
  }
}
