import CNNLayers
import CNNTensor
import Testing

@testable import CNNModels

/// `cnn summary`: shapes with their formulas, parameters with their arithmetic, and errors
/// that name the layer.
@Suite struct ModelSummaryTests {
  /// `cnn summary --model alexnet-original` reproduces the seed 004 table (55, 27, 13, 13, 13, 6)
  /// and seed 001's per-layer counts (35k, 307k, 884k, 663k, 442k, then 37.7M where the seed
  /// prints 177M, 16M, 4M).
  @Test func alexNetOriginalReproducesTheSeedTables() throws {
    var generator = SeededGenerator(seed: 1)
    let summary = try ModelSummary(model: .alexNetOriginal, using: &generator)
    #expect(summary.inputShape == [3, 227, 227])
    let windows = summary.rows.filter { $0.kind.hasPrefix("Conv2D") || $0.kind.hasPrefix("MaxPool2D") }
    #expect(windows.map { $0.outputShape[1] } == [55, 27, 27, 13, 13, 13, 13, 6])
    #expect(windows.map { $0.outputShape[0] } == [96, 96, 256, 256, 384, 384, 256, 256])
    let learned = summary.rows.filter { $0.parameterCount > 0 }
    #expect(
      learned.map(\.parameterCount) == [
        34_944, 307_456, 885_120, 663_936, 442_624, 37_752_832, 16_781_312, 4_097_000,
      ])
    #expect(summary.totalParameters == 60_965_224)
    #expect(summary.outputShape == [1000])
    #expect(summary.notes.isEmpty)

    let table = summary.table
    for line in [
      "(227 + 2·0 − 11)/4 + 1 = 55", "(55 + 2·0 − 3)/2 + 1 = 27", "(27 + 2·2 − 5)/1 + 1 = 27",
      "(27 + 2·0 − 3)/2 + 1 = 13", "(13 + 2·1 − 3)/1 + 1 = 13", "(13 + 2·0 − 3)/2 + 1 = 6", "256·6·6 = 9216",
      "11·11·3·96 + 96 = 34,944", "5·5·48·256 + 256 = 307,456", "3·3·256·384 + 384 = 885,120",
      "3·3·192·384 + 384 = 663,936", "3·3·192·256 + 256 = 442,624", "9216·4096 + 4096 = 37,752,832",
      "4096·4096 + 4096 = 16,781,312", "4096·1000 + 1000 = 4,097,000", "60,965,224",
      "Conv2D 96→256 5x5 same g2",
    ] {
      #expect(table.contains(line), "missing \(line)")
    }
    // The first convolution: K·OH·OW·C·KH·KW = 96·55·55·3·11·11 multiply-accumulates.
    #expect(summary.rows[0].multiplyAccumulates == 96 * 55 * 55 * 3 * 11 * 11)
    #expect(summary.rows[0].activationBytes == 4 * 96 * 55 * 55)
  }

  /// The paper's 224×224 does not tile: a note, or an error with `strict`.
  @Test func alexNetOriginalAt224() throws {
    var generator = SeededGenerator(seed: 1)
    var network: any Layer = AlexNetOriginal(
      inputShape: [3, 224, 224], classCount: 10, initialization: .pytorchDefault, using: &generator)
    let summary = try ModelSummary(of: network, inputShape: [3, 224, 224])
    #expect(summary.rows[0].shapeFormula == "⌊(224 + 2·0 − 11)/4⌋ + 1 = 54")
    #expect(summary.notes.first?.hasPrefix("0: (224 + 2·0 − 11)/4 = 213/4 is not a whole number") == true)
    // 54 → 26 (from 25.5) and 26 → 12 (from 12.5) and 12 → 5 (from 4.5) follow.
    #expect(summary.notes.count == 4)
    network = LeNet5(inputShape: [1, 29, 29], using: &generator)
    #expect(throws: ModelSummaryError.self) {
      _ = try ModelSummary(of: network, inputShape: [1, 29, 29], strict: true)
    }
  }

  @Test func leNet5Rows() throws {
    var generator = SeededGenerator(seed: 1)
    let summary = try ModelSummary(model: .lenet5, using: &generator)
    #expect(summary.rows.map(\.name) == (0...11).map(String.init))
    #expect(
      summary.rows.map(\.outputShape) == [
        [6, 28, 28], [6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 10, 10], [16, 5, 5], [120, 1, 1], [120, 1, 1], [120],
        [84], [84], [10],
      ])
    #expect(summary.rows[0].shapeFormula == "(28 + 2·2 − 5)/1 + 1 = 28")
    #expect(summary.rows[0].parameterFormula == "5·5·1·6 + 6 = 156")
    #expect(summary.rows[3].parameterFormula == "5·5·6·16 + 16 = 2,416")
    #expect(summary.rows[6].parameterFormula == "5·5·16·120 + 120 = 48,120")
    #expect(summary.rows[9].parameterFormula == "120·84 + 84 = 10,164")
    #expect(summary.totalParameters == 61_706)
  }

  /// seed 000's SimpleConvNet row: `(28 + 2·0 − 5)/1 + 1 = 24` and `5·5·1·30 + 30 = 780`.
  @Test func simpleConvNetRow() throws {
    var generator = SeededGenerator(seed: 1)
    let summary = try ModelSummary(model: .simpleConvNet, using: &generator)
    #expect(summary.rows[0].shapeFormula == "(28 + 2·0 − 5)/1 + 1 = 24")
    #expect(summary.rows[0].parameterFormula == "5·5·1·30 + 30 = 780")
    #expect(summary.totalParameters == 433_890)
  }

  /// An image too small for a network: an error naming the layer, not a trap.
  @Test func inputsThatDoNotFitNameTheLayer() throws {
    var generator = SeededGenerator(seed: 1)
    // LeNet-5 at 8×8: C1 keeps 8, S2 gives 4, and C3's 5×5 kernel no longer fits.
    let leNet = try #require(throws: ModelSummaryError.self) {
      _ = try ModelSummary(model: .lenet5, inputShape: [1, 8, 8], using: &generator)
    }
    #expect(leNet.layer == "3")
    #expect(leNet.kind == "Conv2D 6→16 5x5 valid")
    #expect(leNet.input == [6, 4, 4])
    #expect(leNet.description.contains("layer 3 (Conv2D 6→16 5x5 valid) cannot take its input 6×4×4"))

    // A network built for one channel, given three.
    let leNetGray = LeNet5(initialization: .pytorchDefault, using: &generator)
    let channels = try #require(throws: ModelSummaryError.self) {
      _ = try ModelSummary(of: leNetGray, inputShape: [3, 28, 28])
    }
    #expect(channels.layer == "0")
    #expect(channels.reason == "expects 1 channels, got 3")
    // The layer's own error, with the batch dimension, rides along.
    #expect(
      channels.shapeError
        == ShapeError(layer: "Conv2D", expected: "[N, 1, H, W]", got: [1, 3, 28, 28], reason: "expects 1 channels, got 3"))

    // GoogLeNet's smallest image is 15×15, as torchvision's: 15 → 8 → 4 → 2 → 1 (a ceil-mode
    // window may hang over the edge) → 1. At 14×14: 14 → 7 → 3 → 1, and no 3×3 window of
    // the third pooling starts inside a 1×1 map.
    let googLeNet = GoogLeNet(classCount: 10, initialization: .pytorchDefault, using: &generator)
    #expect(try ModelSummary(of: googLeNet, inputShape: [3, 15, 15]).outputShape == [10])
    let small = try #require(throws: ModelSummaryError.self) {
      _ = try ModelSummary(of: googLeNet, inputShape: [3, 14, 14])
    }
    #expect(small.layer == "maxpool3")
    #expect(small.input == [480, 1, 1])
    #expect(
      small.description
        == "layer maxpool3 (MaxPool2D 3x3 s2 p0 ceil) cannot take its input 480×1×1: kernel 3x3 leaves no output from the padded input 1x1"
    )

    #expect(throws: ModelSummaryError.self) {
      _ = try ModelSummary(model: .lenet5, inputShape: [1, 0, 28], using: &generator)
    }
    #expect(throws: ModelSummaryError.self) { _ = try ModelSummary(model: .lenet5, classCount: 0, using: &generator) }
  }

  @Test func json() throws {
    var generator = SeededGenerator(seed: 1)
    let summary = try ModelSummary(model: .lenet5, using: &generator)
    let json = summary.json
    #expect(json.contains("\"model\":\"lenet5\""))
    #expect(json.contains("\"total_parameters\":61706"))
    #expect(json.contains("\"input\":[1,28,28]"))
    #expect(
      json.contains(
        "{\"name\":\"0\",\"type\":\"Conv2D 1→6 5x5 p2\",\"output_shape\":[6,28,28],"
          + "\"shape_formula\":\"(28 + 2·2 − 5)/1 + 1 = 28\",\"parameters\":156,"
          + "\"parameter_formula\":\"5·5·1·6 + 6 = 156\",\"multiply_accumulates\":117600,\"activation_bytes\":18816}"))
    #expect(json.split(separator: "\n").filter { $0.contains("\"name\":") }.count == 12)
    #expect(JSONText.quoted("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"")
  }

  /// `MaxPool2d(ceil_mode=True)` output sizes, from PyTorch, for (k, s, p) = (3, 2, 0),
  /// (2, 2, 0), (3, 1, 1), (3, 2, 1).
  @Test func ceilModePoolingMatchesPyTorch() throws {
    let expected: [Int: [Int]] = [
      1: [0, 1, 1, 1], 2: [1, 1, 2, 2], 3: [1, 2, 3, 2], 4: [2, 2, 4, 3], 5: [2, 3, 5, 3], 6: [3, 3, 6, 4],
      7: [3, 4, 7, 4], 8: [4, 4, 8, 5], 13: [6, 7, 13, 7], 14: [7, 7, 14, 8], 15: [7, 8, 15, 8],
      28: [14, 14, 28, 15], 56: [28, 28, 56, 29], 112: [56, 56, 112, 57],
    ]
    let pools = [
      CeilModeMaxPool2D(kernelSize: 3, stride: 2), CeilModeMaxPool2D(kernelSize: 2, stride: 2),
      CeilModeMaxPool2D(kernelSize: 3, stride: 1, padding: 1), CeilModeMaxPool2D(kernelSize: 3, stride: 2, padding: 1),
    ]
    for (size, outputs) in expected {
      #expect(pools.map { $0.outputSize(for: size) } == outputs, "size \(size)")
      for (pool, output) in zip(pools, outputs) where output > 0 {
        #expect(try pool.outputShape(for: [1, 2, size, size]) == [1, 2, output, output])
      }
    }
    var generator = SeededGenerator(seed: 3)
    let pool = CeilModeMaxPool2D(kernelSize: 3, stride: 2)
    let input = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
    // Windows rows/columns 0–2 and 2–3 (hanging over the edge): maxima 10, 11, 14, 15.
    #expect(pool(input).scalars == [10, 11, 14, 15])
    let result = checkGradients(of: pool, input: .randomNormal([1, 2, 5, 5], using: &generator), using: &generator)
    #expect(result.maxError < 1e-2)
  }
}
