import ArgumentParser

/// One input: a command line, arguments separated by NUL bytes (the corpus files read
/// `train\0--epochs\03`). It is parsed as `cnn` would parse it (`validate()` included), without
/// running the command; a parse error, `--help` and `--version` are clean outcomes (the error's
/// message and exit code are rendered too), a trap is a finding.
///
/// Each of swift-argument-parser's renderings rebuilds the command's help model, so the exit
/// code is computed only for inputs whose length is a multiple of 8, and the full message with
/// the usage text (`fullMessage(for:)`, ten times the cost of a parse) for multiples of 64:
/// both depend on the command and the error's kind, not on the bytes of the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
    String(decoding: $0, as: UTF8.self)
  }
  do {
    _ = try CNNCommand.parseAsRoot(arguments)
  } catch {
    _ = CNNCommand.message(for: error)
    if size % 8 == 0 { _ = CNNCommand.exitCode(for: error) }
    if size % 64 == 0 { _ = CNNCommand.fullMessage(for: error) }
  }
  return 0
}
