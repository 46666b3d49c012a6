import CNNKit

/// One input: the bytes of a safetensors file, validated (`SafeTensorsFile`), every tensor
/// converted, and read as a checkpoint (`Checkpoint(file:)`: the `run` and `state` JSON metadata
/// decoded and checked). It stops before building the model, which `FuzzCheckpoint` goes on
/// to do, so it runs about a hundred times faster. A thrown error is a clean outcome; a trap,
/// an overflow, a hang or a huge allocation is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  do {
    let file = try SafeTensorsFile(bytes: bytes)
    for name in file.names {
      _ = try? file.tensor(named: name, allowingIntegers: true)
    }
    let checkpoint = try Checkpoint(file: file)
    _ = checkpoint.metadata
  } catch {
    _ = "\(error)"
  }
  return 0
}
