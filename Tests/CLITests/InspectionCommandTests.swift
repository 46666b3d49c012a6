import Foundation
import Testing

/// The subcommands that need no trained checkpoint: summary, explain, convolve, benchmark, and
/// `visualize` on untrained networks and the bundled sample.
@Suite struct InspectionCommandTests {
  @Test func summaryCountsLeNet5Parameters() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("summary", "--model", "lenet5", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("61,706 parameters"), "\(result)")
      let json = try cnn("summary", "--model", "lenet5", "--json", in: directory)
      let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
      #expect(object["total_parameters"] as? Int == 61_706, "\(json)")
    }
  }

  @Test func explainShowsConvolutionAndPoolingSteps() throws {
    try withTemporaryDirectory { directory in
      let conv = try cnn("explain", "conv", in: directory)
      #expect(conv.exitCode == 0, "\(conv)")
      #expect(conv.stdout.contains("Step 1 of 9"), "\(conv)")
      let im2col = try cnn("explain", "conv", "--im2col", in: directory)
      #expect(im2col.exitCode == 0, "\(im2col)")
      let pool = try cnn("explain", "pool", in: directory)
      #expect(pool.exitCode == 0, "\(pool)")
      #expect(pool.stdout.contains("Pooling"), "\(pool)")
    }
  }

  @Test func convolveWritesAPNGOfTheInputSize() throws {
    try withTemporaryDirectory { directory in
      try TestPNG.write(to: directory.appendingPathComponent("in.png"), width: 20, height: 14) { x, _ in
        x < 10 ? 30 : 200  // a vertical edge for sobel-x to find
      }
      let result = try cnn("convolve", "--kernel", "sobel-x", "in.png", "-o", "edges.png", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(isPNG(directory.appendingPathComponent("edges.png"), width: 20, height: 14))
      let compare = try cnn("convolve", "--kernel", "blur", "--compare", "in.png", "-o", "both.png", in: directory)
      #expect(compare.exitCode == 0, "\(compare)")
      #expect(isPNG(directory.appendingPathComponent("both.png")))
    }
  }

  @Test func visualizeDrawsAnUntrainedNetwork() throws {
    try withTemporaryDirectory { directory in
      let filters = try cnn("visualize", "filters", "--model", "lenet5", "-o", "filters.png", in: directory)
      #expect(filters.exitCode == 0, "\(filters)")
      #expect(isPNG(directory.appendingPathComponent("filters.png")))
      let list = try cnn("visualize", "filters", "--model", "lenet5", "--list", "-o", "unused.png", in: directory)
      #expect(list.exitCode == 0, "\(list)")
      #expect(!fileExists("unused.png", in: directory))
      let maps = try cnn("visualize", "activations", "--model", "simple-convnet", "-o", "maps.png", in: directory)
      #expect(maps.exitCode == 0, "\(maps)")
      #expect(isPNG(directory.appendingPathComponent("maps.png")))
    }
  }

  /// Evaluates an untrained network on the first images of the bundled MNIST sample.
  @Test func visualizeConfusionOfAnUntrainedNetwork() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(
        "visualize", "confusion", "--model", "simple-convnet", "--limit", "20", "--save-json", "m.json",
        "-o", "m.svg", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("of 20 test images correct"), "\(result)")
      #expect(fileExists("m.svg", in: directory))
      let redraw = try cnn("visualize", "confusion", "--matrix", "m.json", "-o", "m.png", in: directory)
      #expect(redraw.exitCode == 0, "\(redraw)")
      #expect(isPNG(directory.appendingPathComponent("m.png")))
    }
  }

  @Test func visualizeAugmentOnTheBundledSample() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(
        "visualize", "augment", "--augment", "flip,crop=2", "--samples", "2", "--copies", "2", "-o", "a.png",
        in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(isPNG(directory.appendingPathComponent("a.png")))
    }
  }

  @Test func benchmarkRunsOneSmallMeasurement() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(
        "benchmark", "--only", "512x512", "--min-time", "0.001", "--repeats", "1", "--threads", "1", "--json",
        in: directory)
      #expect(result.exitCode == 0, "\(result)")
      let lines = result.stdout.split(separator: "\n")
      #expect(lines.count == 1, "\(result)")
      let object = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
      #expect(object["name"] as? String == "sgemm 512x512x512")
      #expect((object["value"] as? Double).map { $0 > 0 } == true, "\(result)")
    }
  }

  @Test func benchmarkMeasuresOneNetwork() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(
        "benchmark", "--model", "lenet5", "--batch-size", "3", "--input", "1x32x32", "--min-time", "0.001",
        "--repeats", "1", "--json", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      let objects = try result.stdout.split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
      }
      let names = objects.compactMap { $0["name"] as? String }
      #expect(
        names == [
          "train lenet5 1x32x32 batch 3 (adam)", "infer lenet5 1x32x32 batch 3", "infer lenet5 1x32x32 batch 1",
          "peak memory lenet5 1x32x32",
        ], "\(result)")
      #expect(objects.allSatisfy { ($0["value"] as? Double).map { $0 > 0 } == true }, "\(result)")

      let orphan = try cnn("benchmark", "--batch-size", "3", in: directory)
      #expect(orphan.exitCode != 0 && orphan.stderr.contains("add --model"), "\(orphan)")
      let single = try cnn("benchmark", "--model", "resnet18", "--input", "3x32x32", "--batch-size", "1", in: directory)
      #expect(single.exitCode != 0 && single.stderr.contains("layer4.0.bn1"), "\(single)")
      let huge = try cnn("benchmark", "--model", "vgg16", "--input", "3x4000x4000", in: directory)
      #expect(huge.exitCode != 0 && huge.stderr.contains("memory budget"), "\(huge)")
      #expect(huge.stderr.contains("--input also helps") && !huge.stderr.contains("--image-size"), "\(huge)")
      // Without the training step, its memory plan (3x the activations) is not asked for.
      let inference = try cnn(
        "benchmark", "--model", "resnet50", "--batch-size", "32", "--only", "peak", "--json", in: directory)
      #expect(inference.exitCode == 0 && inference.stdout.contains("peak memory resnet50"), "\(inference)")
    }
  }
}
