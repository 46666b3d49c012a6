import Foundation

@testable import CNNData

/// The photos of `../shared/datasets/images/` (next to the package), if present.
enum Photos {
  static let directory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/datasets/images")

  static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  static var available: Bool { FileManager.default.fileExists(atPath: path("camera.png")) }
}

/// A deterministic test image with smooth and sharp parts, so every PNG filter gets used.
func testImage(width: Int, height: Int, channels: Int) -> Image {
  var pixels: [UInt8] = []
  for y in 0..<height {
    for x in 0..<width {
      for c in 0..<channels {
        pixels.append(UInt8(truncatingIfNeeded: (x * 7 + y * 13 + c * 50) ^ (x * y + c)))
      }
    }
  }
  return Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// The error `body` throws, if it is a `PNGError`.
func pngError(_ body: () throws -> Any) -> PNGError? {
  do {
    _ = try body()
    return nil
  } catch let error as PNGError {
    return error
  } catch {
    return nil
  }
}

/// Builds a PNG chunk (length, type, data, CRC) for malformed-file tests.
func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
  var out: [UInt8] = []
  PNGEncoder.appendChunk(type, data, to: &out)
  return out
}
