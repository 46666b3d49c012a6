import Foundation
import Testing

/// Every ```swift block of the DocC articles and of README.md must appear, line for line, in
/// `ArticleSnippetTests.swift`, where it is compiled (and, for the articles, run and
/// checked). Lines are compared without their indentation, blank lines and `import` lines are
/// skipped (the test file imports once, at its top).
@Suite struct SnippetsAppearVerbatimTests {
  /// The package's root, found from this file's place in it (`Tests/DocumentationTests/`).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static var documents: [URL] {
    let articles = root.appendingPathComponent("Sources/CNNKit/CNNKit.docc/Articles")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: articles.path)) ?? []
    return names.filter { $0.hasSuffix(".md") }.sorted().map { articles.appendingPathComponent($0) }
      + [root.appendingPathComponent("Sources/CNNKit/CNNKit.docc/CNNKit.md"), root.appendingPathComponent("README.md")]
  }

  /// The ```swift blocks of a Markdown text.
  static func swiftBlocks(in text: String) -> [String] {
    var blocks: [String] = []
    var current: [Substring]?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if current == nil, trimmed == "```swift" {
        current = []
      } else if current != nil, trimmed == "```" {
        blocks.append(current.map { $0.joined(separator: "\n") } ?? "")
        current = nil
      } else if current != nil {
        current?.append(line)
      }
    }
    return blocks
  }

  /// Lines without indentation, blank lines or imports.
  static func normalized(_ code: String) -> String {
    code.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty && !$0.hasPrefix("import ") }.joined(separator: "\n")
  }

  @Test func everySwiftSampleIsInTheSnippetTests() throws {
    let tests = try String(
      contentsOf: Self.root.appendingPathComponent("Tests/DocumentationTests/ArticleSnippetTests.swift"), encoding: .utf8)
    let compiled = Self.normalized(tests)
    var samples = 0
    for document in Self.documents {
      let text = try String(contentsOf: document, encoding: .utf8)
      for block in Self.swiftBlocks(in: text) {
        samples += 1
        let code = Self.normalized(block)
        #expect(!code.isEmpty && compiled.contains(code), "\(document.lastPathComponent): this sample is not in ArticleSnippetTests.swift:\n\(block)")
      }
    }
    // Eight articles with one sample each, plus the README's two.
    #expect(samples >= 10, "found \(samples) samples; are the articles where this test looks?")
  }

  @Test func blocksAreFoundAndNormalized() {
    let text = "intro\n```swift\nimport CNNKit\n\n  let a = 1\n```\n```sh\nls\n```\n"
    #expect(Self.swiftBlocks(in: text) == ["import CNNKit\n\n  let a = 1"])
    #expect(Self.normalized("import CNNKit\n\n  let a = 1\n") == "let a = 1")
  }

  /// The README links every article.
  @Test func readmeLinksTheArticles() throws {
    let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
    for document in Self.documents where document.path.contains("/Articles/") {
      #expect(readme.contains("CNNKit.docc/Articles/\(document.lastPathComponent)"), "\(document.lastPathComponent)")
    }
  }
}
