import Foundation
import Testing

/// `--help` works for the tool and every subcommand, and the list below is the whole tool.
@Suite struct HelpTests {
  /// Every command, as the words typed after `cnn`.
  static let commands: [[String]] = [
    [], ["train"], ["evaluate"], ["summary"], ["predict"], ["export"], ["visualize"], ["visualize", "filters"],
    ["visualize", "activations"], ["visualize", "curves"], ["visualize", "confusion"], ["visualize", "augment"],
    ["convolve"], ["explain"], ["explain", "conv"], ["explain", "pool"], ["explain", "shape"], ["explain", "col2im"],
    ["gradcheck"], ["benchmark"], ["dashboard"],
  ]

  @Test(arguments: commands)
  func helpExitsZeroAndShowsUsage(_ command: [String]) throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(command + ["--help"], in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("USAGE: cnn \(command.joined(separator: " "))"), "\(result)")
      #expect(result.stderr.isEmpty, "\(result)")
    }
  }

  /// A new subcommand fails this test until it is added to `commands`.
  @Test func everySubcommandIsCovered() throws {
    try withTemporaryDirectory { directory in
      for parent in Self.commands where Self.commands.contains(where: { $0.count == parent.count + 1 }) {
        let help = try cnn(parent + ["--help"], in: directory).stdout
        let listed = Self.subcommands(inHelp: help)
        let covered = Self.commands.filter { $0.count == parent.count + 1 && $0.starts(with: parent) }.map { $0.last! }
        if !listed.isEmpty || parent.isEmpty {
          #expect(Set(listed) == Set(covered), "cnn \(parent.joined(separator: " ")) --help lists \(listed)")
        }
      }
    }
  }

  /// The names in the SUBCOMMANDS section of a help text (without `help`, which ArgumentParser adds).
  static func subcommands(inHelp help: String) -> [String] {
    guard let section = help.range(of: "SUBCOMMANDS:") else { return [] }
    // Entries are "  name   abstract"; wrapped abstracts are indented further, and the
    // closing "  See 'cnn help …'" line is capitalised.
    return help[section.upperBound...].split(separator: "\n").compactMap { line -> String? in
      guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first,
        word.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), word != "help"
      else { return nil }
      return String(word)
    }
  }
}
