import Foundation
import Testing

/// The learner's pictures and tables from the command line: filters before and after a run,
/// the image-kernel lesson, and a summary that fits 120 columns.
@Suite struct LearnerPictureCommandTests {
  @Test func filtersBeforeAndAfterARun() throws {
    try withTemporaryDirectory { directory in
      try TinyFolderDataset.write(to: directory.appendingPathComponent("tiny"))
      let train = try cnn(
        "train", "--dataset", "folder", "--data-dir", "tiny", "--batch-size", "6", "--threads", "1", "--epochs", "1",
        "--checkpoint", "c.safetensors", in: directory)
      #expect(train.exitCode == 0, "\(train)")
      let both = try cnn("visualize", "filters", "--checkpoint", "c.safetensors", "--before-after", "-o", "ba.png", in: directory)
      #expect(both.exitCode == 0, "\(both)")
      #expect(isPNG(directory.appendingPathComponent("ba.png")), "\(both)")
      #expect(both.stdout.contains("c.safetensors, 1 epoch: 0.weight [30, 1, 5, 5], 30 filters drawn"), "\(both)")
      // One picture alone is about half as wide as the pair (the titles differ in length).
      let after = try cnn("visualize", "filters", "--checkpoint", "c.safetensors", "-o", "after.png", in: directory)
      #expect(after.exitCode == 0, "\(after)")
      let pairWidth = try pngWidth(directory.appendingPathComponent("ba.png"))
      let singleWidth = try pngWidth(directory.appendingPathComponent("after.png"))
      #expect(pairWidth > singleWidth * 3 / 2 && pairWidth < singleWidth * 3, "\(pairWidth) vs \(singleWidth)")

      let untrained = try cnn("visualize", "filters", "--model", "lenet5", "--before-after", "-o", "x.png", in: directory)
      #expect(untrained.exitCode != 0 && untrained.stderr.contains("--before-after needs --checkpoint"), "\(untrained)")
    }
  }

  @Test func deeperLayersAreSummarised() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("visualize", "filters", "--model", "lenet5", "--layer", "3", "-o", "c3.png", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("3.weight [16, 6, 5, 5], 16 filters drawn"), "\(result)")
      let few = try cnn(
        "visualize", "filters", "--model", "lenet5", "--layer", "6", "--max-filters", "4", "--max-channels", "2",
        "-o", "c5.png", in: directory)
      #expect(few.exitCode == 0 && few.stdout.contains("6.weight [120, 16, 5, 5], 4 filters drawn"), "\(few)")
      // Four rows of two 40-pixel tiles: far smaller than 16 rows of 8.
      #expect(try pngHeight(directory.appendingPathComponent("c5.png")) < pngHeight(directory.appendingPathComponent("c3.png")))
    }
  }

  @Test func convolveLessonDrawsEveryKernel() throws {
    try withTemporaryDirectory { directory in
      try TestPNG.write(to: directory.appendingPathComponent("photo.png"), width: 64, height: 48) { x, y in
        UInt8((x * 4 + y * 2) % 256)
      }
      let result = try cnn("convolve", "--lesson", "photo.png", "-o", "lesson.png", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("blur, sharpen, edge, emboss, sobel-x, sobel-y"), "\(result)")
      #expect(isPNG(directory.appendingPathComponent("lesson.png")))
      let neither = try cnn("convolve", "photo.png", "-o", "x.png", in: directory)
      #expect(neither.exitCode != 0 && neither.stderr.contains("--lesson"), "\(neither)")
      let both = try cnn("convolve", "--lesson", "--kernel", "blur", "photo.png", "-o", "x.png", in: directory)
      #expect(both.exitCode != 0 && both.stderr.contains("leave out --kernel"), "\(both)")
    }
  }

  @Test func summaryFitsIn120Columns() throws {
    try withTemporaryDirectory { directory in
      for model in ["googlenet", "resnet50", "alexnet-original", "lenet5"] {
        let result = try cnn("summary", "--model", model, in: directory)
        #expect(result.exitCode == 0, "\(result)")
        let widest = result.stdout.split(separator: "\n").map(\.count).max() ?? 0
        #expect(widest <= 120, "\(model): \(widest) columns")
      }
      let googlenet = try cnn("summary", "--model", "googlenet", in: directory)
      #expect(
        googlenet.stdout.contains("\n    output size ⌊(224 + 2·3 − 7)/2⌋ + 1 = 112; parameters 7·7·3·64 = 9,408\n"),
        "\(googlenet.stdout.prefix(800))")
      let wide = try cnn("summary", "--model", "googlenet", "--width", "0", in: directory)
      #expect((wide.stdout.split(separator: "\n").map(\.count).max() ?? 0) > 120, "--width 0 keeps the formula columns")
    }
  }

  @Test func evaluationSampleIsValidated() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("train", "--eval-sample", "0", in: directory)
      #expect(result.exitCode != 0 && result.stderr.contains("--eval-sample must be in 1…"), "\(result)")
    }
  }

  /// The width and height a PNG's IHDR chunk declares.
  func pngWidth(_ url: URL) throws -> Int { try pngSize(url).width }
  func pngHeight(_ url: URL) throws -> Int { try pngSize(url).height }

  func pngSize(_ url: URL) throws -> (width: Int, height: Int) {
    let bytes = [UInt8](try Data(contentsOf: url).prefix(24))
    guard bytes.count == 24 else { throw CLIHarnessError(description: "\(url.path) is too short for a PNG") }
    func int(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (int(16), int(20))
  }
}
