import ArgumentParser

/// One input: a command line, arguments separated by NUL bytes (the corpus files read
/// `train\0--epochs\03`). It is parsed as `cnn` would parse it, without running the command;
/// a parse error, `--help` and `--version` are clean outcomes (their messages are rendered
/// too), a trap is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
    String(decoding: $0, as: UTF8.self)
  }
  do {
    let command = try CNNCommand.parseAsRoot(arguments)
    _ = "\(command)"
  } catch {
    _ = CNNCommand.fullMessage(for: error)
    _ = CNNCommand.exitCode(for: error)
  }
  return 0
}
