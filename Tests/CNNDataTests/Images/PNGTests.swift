import Foundation
import Testing

@testable import CNNData

@Suite struct PNGTests {
  @Test(arguments: [1, 2, 3, 4])
  func roundTripsEveryColourType(channels: Int) throws {
    let image = testImage(width: 37, height: 23, channels: channels)
    let encoder = PNGEncoder(usesPaletteWhenPossible: false)
    let bytes = encoder.encode(image)
    #expect(bytes[25] == PNGColorType(channels: channels).rawValue)  // IHDR colour type byte
    #expect(try PNGDecoder.decode(bytes) == image)
  }

  @Test(arguments: [3, 4])
  func roundTripsPaletteImages(channels: Int) throws {
    // Few colours: the encoder writes colour type 3 (with tRNS when there is alpha).
    var pixels: [UInt8] = []
    for p in 0..<(20 * 9) {
      let colour: [UInt8] = [[255, 0, 0, 255], [0, 128, 255, 40], [9, 9, 9, 0]][p % 3]
      pixels += colour.prefix(channels)
    }
    let image = Image(width: 20, height: 9, channels: channels, pixels: pixels)
    let bytes = image.pngData()
    #expect(bytes[25] == PNGColorType.palette.rawValue)
    #expect(try PNGDecoder.decode(bytes) == image)
  }

  @Test func reducesAllGreyRGBToGreyscaleOnRequest() throws {
    let grey = testImage(width: 30, height: 20, channels: 1)
    let rgb = grey.converted(toChannels: 3)
    #expect(try PNGDecoder.decode(rgb.pngData()) == rgb)  // pngData keeps the channels
    #expect(rgb.reducedToGreyIfPossible() == grey)
    #expect(testImage(width: 4, height: 4, channels: 3).reducedToGreyIfPossible().channels == 3)
  }

  @Test(arguments: [UInt8(0), 1, 2, 3, 4])
  func decodesEachFilterType(filter: UInt8) throws {
    for channels in [1, 3] {
      let image = testImage(width: 19, height: 11, channels: channels)
      let bytes = PNGEncoder.file(
        width: 19, height: 11, colorType: PNGColorType(channels: channels), bytesPerPixel: channels,
        samples: image.pixels, palette: nil, alphas: nil, forcing: filter)
      #expect(try PNGDecoder.decode(bytes) == image)
    }
  }

  @Test func scaledUpPicturesCompressWell() {
    let tile = testImage(width: 8, height: 8, channels: 1).scaled(by: 16)
    #expect(tile.width == 128 && tile.height == 128)
    #expect(tile.pngData().count < tile.pixels.count / 4)
  }

  @Test func decodesLowBitDepthGrey() throws {
    // 4×2 grey at 2 bits: values 0,1,2,3 / 3,2,1,0 → 0, 85, 170, 255.
    let header: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 2, 2, 0, 0, 0, 0]
    let raw: [UInt8] = [0, 0b00_01_10_11, 0, 0b11_10_01_00]
    let bytes = PNG.signature + chunk("IHDR", header) + chunk("IDAT", Zlib.compress(raw)) + chunk("IEND", [])
    let image = try PNGDecoder.decode(bytes)
    #expect(image.channels == 1)
    #expect(image.pixels == [0, 85, 170, 255, 255, 170, 85, 0])
  }

  @Test func decodes16BitRGBToEightBits() throws {
    let header: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 1, 16, 2, 0, 0, 0]
    let raw: [UInt8] = [0, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00]
    let bytes = PNG.signature + chunk("IHDR", header) + chunk("IDAT", Zlib.compress(raw)) + chunk("IEND", [])
    #expect(try PNGDecoder.decode(bytes).pixels == [255, 128, 0])
  }

  @Test func tensorConversionRoundTrips() {
    let image = testImage(width: 5, height: 3, channels: 3)
    let tensor = image.tensor()
    #expect(tensor.shape == [1, 3, 3, 5])
    #expect(tensor[0, 1, 2, 4] == Float(image[4, 2, 1]) / 255)
    #expect(Image(tensor: tensor) == image)
  }
}

@Suite(.enabled(if: Photos.available, "needs ../shared/datasets/images"))
struct PNGPhotoTests {
  @Test func cameraMatchesItsPGMTwin() throws {
    let png = try Image.read(from: Photos.path("camera.png"))
    let pgm = try Image.read(from: Photos.path("camera.pgm"))
    #expect(png.width == 512 && png.height == 512 && png.channels == 1)
    #expect(png == pgm)
  }

  @Test func chelseaMatchesItsPPMTwin() throws {
    let png = try Image.read(from: Photos.path("chelsea.png"))
    let ppm = try Image.read(from: Photos.path("chelsea.ppm"))
    #expect(png.width == 451 && png.height == 300 && png.channels == 3)
    #expect(png == ppm)
  }

  @Test func coffeeIs600By400RGB() throws {
    let image = try Image.read(from: Photos.path("coffee.png"))
    #expect(image.width == 600 && image.height == 400 && image.channels == 3)
  }

  /// Re-encoded photos decode to the same pixels and are at most 2 % larger than the files
  /// they came from (zlib level 6 with Z_FILTERED; the former fixed-Huffman coder was 25–35 %
  /// larger).
  @Test(arguments: ["camera.png", "chelsea.png", "coffee.png"])
  func photosReencodeAsSmallAsTheirOriginals(name: String) throws {
    let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Photos.path(name))))
    let image = try PNGDecoder.decode(original, file: name)
    let encoded = image.pngData()
    #expect(try PNGDecoder.decode(encoded) == image)
    #expect(encoded.count <= original.count * 102 / 100, "\(name): \(encoded.count) bytes, was \(original.count)")
  }
}
