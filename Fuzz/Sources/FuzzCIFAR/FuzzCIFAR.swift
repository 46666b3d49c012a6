import CNNKit

/// One input: the first byte picks the class count (1…16, so labels can be out of range),
/// the rest is a CIFAR-10 batch file. Every outcome but a clean `DatasetError` is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let classCount = Int(bytes.first ?? 9) % 16 + 1
  let classNames = (0..<classCount).map { "class \($0)" }
  do {
    let dataset = try CIFAR10.decode(Array(bytes.dropFirst()), file: "fuzz", classNames: classNames)
    precondition(dataset.labels.allSatisfy { (0..<classCount).contains($0) }, "CIFAR10: a label out of range")
  } catch {
    _ = "\(error)"
  }
  return 0
}
