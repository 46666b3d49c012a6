import CNNKit

/// One input: the bytes of an IDX file, plain or gzip. Every outcome but a clean
/// `DatasetError` (a trap, an overflow, a leak, a hang) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  do {
    let array = try IDX.decode(bytes, file: "fuzz")
    precondition(array.bytes.count == array.dimensions.reduce(1, *), "IDX: \(array.dimensions) but \(array.bytes.count) bytes")
  } catch {
    _ = "\(error)"  // the description, with its hint, must not trap either
  }
  if bytes.count > 1 {
    // The same bytes with a required magic number, images then labels.
    let magic = bytes[0] & 1 == 0 ? IDX.imagesMagic : IDX.labelsMagic
    _ = try? IDX.decode(Array(bytes.dropFirst()), file: "fuzz", expectedMagic: magic)
  }
  return 0
}
