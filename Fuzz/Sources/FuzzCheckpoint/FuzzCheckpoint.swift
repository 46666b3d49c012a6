import CNNKit

/// One input: the bytes of a safetensors file. It is validated (`SafeTensorsFile`), read as a
/// checkpoint (its `run` and `state` JSON metadata decoded and checked) and, if that works,
/// its model is built and loaded (`RestoredModel`). A thrown error is a clean outcome; a trap,
/// an overflow, a hang or a huge allocation (libFuzzer's `-rss_limit_mb`/`-malloc_limit_mb`)
/// is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  do {
    let file = try SafeTensorsFile(bytes: bytes)
    for name in file.names {
      _ = try? file.tensor(named: name, allowingIntegers: true)
    }
    let checkpoint = try Checkpoint(file: file)
    let restored = try RestoredModel(checkpoint: checkpoint, source: "fuzz")
    _ = restored.classCount
  } catch {
    _ = "\(error)"
  }
  return 0
}
