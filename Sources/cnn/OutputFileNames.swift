import ArgumentParser

/// Checks that an output file is named for the format written to it, so `-o curves.png`
/// fails before any work instead of writing SVG text into a `.png`.
///
/// - Parameters:
///   - path: The file name given.
///   - option: The option that named it (`--plot`), for the message.
///   - extensions: The accepted extensions, lower case, without the dot (`["svg"]`).
///   - content: What is written (`curves are written as SVG`), for the message.
/// - Throws: `ValidationError` saying what to name the file.
func checkOutputName(_ path: String, option: String, extensions: [String], content: String) throws {
  let lower = path.lowercased()
  guard !extensions.contains(where: { lower.hasSuffix("." + $0) }) else { return }
  let names = extensions.map { "…\($0)" }.joined(separator: " or ")
  throw ValidationError("\(option) \(path): \(content); name the file \(names).")
}
