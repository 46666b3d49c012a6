import CNNKit

/// One input: the bytes of a PNG file. Every outcome but a clean `PNGError` is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  do {
    let image = try PNGDecoder.decode(bytes, file: "fuzz")
    precondition(
      image.pixels.count == image.width * image.height * image.channels, "PNG: pixel count does not match the size")
  } catch {
    _ = "\(error)"
  }
  return 0
}
