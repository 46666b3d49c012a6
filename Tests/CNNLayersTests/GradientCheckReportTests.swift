import CNNTensor
import Testing

@testable import CNNLayers

/// `LayerSpecification` (the `cnn gradcheck --layer` grammar) and `gradientCheckReport`.
@Suite struct LayerSpecificationTests {
  @Test func parsesSettingsAndFillsDefaults() throws {
    let conv = try LayerSpecification(parsing: "conv:in=3,out=4,k=3,s=1,p=1")
    #expect(conv.kind == .conv)
    #expect(conv.values == ["in": 3, "out": 4, "k": 3, "s": 1, "p": 1, "g": 1])
    #expect(conv.description == "conv:in=3,out=4,k=3,s=1,p=1,g=1")
    #expect(try LayerSpecification(parsing: "maxpool:k=3").values["s"] == 3)  // the stride defaults to k
    #expect(try LayerSpecification(parsing: "relu").description == "relu")
    var generator = SeededGenerator(seed: 3)
    let layer = try LayerSpecification(parsing: "linear:in=8,out=4").makeLayer(using: &generator)
    #expect(try layer.outputShape(for: [2, 8]) == [2, 4])
  }

  @Test func refusesUnknownLayersAndSettingsListingWhatIsAccepted() {
    #expect(throws: LayerSpecificationError(problem: "unknown layer 'foo'")) { try LayerSpecification(parsing: "foo") }
    let description = LayerSpecificationError(problem: "unknown layer 'foo'").description
    for kind in LayerSpecification.Kind.allCases { #expect(description.contains("  \(kind.rawValue)"), "\(description)") }
    #expect(throws: LayerSpecificationError.self) { try LayerSpecification(parsing: "relu:k=2") }
    #expect(throws: LayerSpecificationError.self) { try LayerSpecification(parsing: "conv:stride=2") }
  }

  @Test func refusesNumbersOutsideTheirRange() {
    #expect(throws: LayerSpecificationError(problem: "conv k=99 is out of range: k takes whole numbers 1...11")) {
      try LayerSpecification(parsing: "conv:k=99")
    }
    #expect(throws: LayerSpecificationError.self) { try LayerSpecification(parsing: "conv:k=3,p=3") }
    #expect(throws: LayerSpecificationError.self) { try LayerSpecification(parsing: "conv:in=3,g=2") }
    #expect(throws: LayerSpecificationError.self) { try LayerSpecification(parsing: "maxpool:k=2,p=2") }
    #expect(throws: LayerSpecificationError.self) { try LayerSpecification(parsing: "dropout:rate=1") }
    #expect(throws: LayerSpecificationError.self) { try LayerSpecification(parsing: "linear:in=1.5") }
  }

  @Test func inputShapes() {
    #expect(LayerSpecification.inputShape(parsing: "8") == [8])
    #expect(LayerSpecification.inputShape(parsing: "3x6x6") == [3, 6, 6])
    #expect(LayerSpecification.inputShape(parsing: "3x6") == nil)
    #expect(LayerSpecification.inputShape(parsing: "64x64x64", maximum: 64, maximumCount: 4096) == nil)
  }

  /// Every kind, at its default input, passes: the defaults fit and the inputs avoid kinks.
  @Test(arguments: LayerSpecification.Kind.allCases)
  func everyKindPassesAtItsDefaults(kind: LayerSpecification.Kind) throws {
    var generator = SeededGenerator(seed: 11)
    let specification = try LayerSpecification(parsing: kind.rawValue)
    let layer = specification.makeLayer(using: &generator)
    let input = specification.gradientCheckInput(batch: 2, shape: specification.defaultInputShape, using: &generator)
    let report = gradientCheckReport(of: layer, input: input, using: &generator)
    #expect(report.verdict == .ok, "\(report)")
    #expect(report.rows.count == layer.namedParameters.count + 1, "\(report)")
  }
}

/// A layer whose pullback is deliberately wrong: `y = w ⊙ x`, but the pullback returns
/// `2 · w ⊙ dy` and accumulates `dy ⊙ x` only when `correctWeight` is set.
private final class Miscalculated: Layer {
  let weight: Parameter
  let correctWeight: Bool
  init(count: Int, correctWeight: Bool, using generator: inout SeededGenerator) {
    weight = Parameter(.randomNormal([count], using: &generator))
    self.correctWeight = correctWeight
  }
  var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }
  func outputShape(for input: Shape) throws(ShapeError) -> Shape { input }
  func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let w = weight.value
    let output = Tensor(shape: input.shape, scalars: (0..<input.scalarCount).map { input.scalars[$0] * w.scalars[$0 % w.scalarCount] })
    return (output, { [weight, correctWeight] dOutput in
      var dw = [Float](repeating: 0, count: w.scalarCount)
      for i in 0..<input.scalarCount { dw[i % w.scalarCount] += dOutput.scalars[i] * input.scalars[i] * (correctWeight ? 1 : 0.5) }
      weight.accumulateGradient(Tensor(shape: w.shape, scalars: dw))
      return Tensor(shape: input.shape, scalars: (0..<input.scalarCount).map { 2 * dOutput.scalars[$0] * w.scalars[$0 % w.scalarCount] })
    })
  }
}

@Suite struct GradientCheckReportTests {
  @Test func wrongPullbacksAreCalledWrong() {
    var generator = SeededGenerator(seed: 5)
    let layer = Miscalculated(count: 6, correctWeight: false, using: &generator)
    let report = gradientCheckReport(of: layer, input: .randomNormal([2, 6], using: &generator), using: &generator)
    #expect(report.rows.map(\.name) == ["input", "weight"])
    #expect(report.rows.allSatisfy { $0.verdict == .wrong }, "\(report)")
    #expect(report.verdict == .wrong)
    #expect(report.description.contains("WRONG"))
    // Only the input gradient is wrong when the weight's is right.
    let half = Miscalculated(count: 6, correctWeight: true, using: &generator)
    let second = gradientCheckReport(of: half, input: .randomNormal([2, 6], using: &generator), using: &generator)
    #expect(second.rows.map(\.verdict) == [.wrong, .ok], "\(second)")
  }

  @Test func largeTensorsAreSampledSmallOnesCheckedInFull() {
    var generator = SeededGenerator(seed: 6)
    let linear = Linear(inputFeatures: 40, outputFeatures: 10, using: &generator)
    let report = gradientCheckReport(
      of: linear, input: .randomNormal([2, 40], using: &generator), sampling: GradientCheckSampling(fullUpTo: 64, sampleSize: 12),
      using: &generator)
    #expect(report.rows.map(\.checked) == [12, 12, 10], "\(report)")  // input 80, weight 400: sampled; bias 10: full
    #expect(report.rows.map(\.isSampled) == [true, true, false])
    #expect(report.description.contains("12 of 400"), "\(report)")
    #expect(report.description.contains("sampled"), "\(report)")
    #expect(report.verdict == .ok, "\(report)")
  }

  @Test func automaticSamplingChecksLayersInFullAndNetworksOnASample() {
    var generator = SeededGenerator(seed: 9)
    let small = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, using: &generator)
    #expect(GradientCheckSampling.automatic(for: small, inputShape: [2, 3, 6, 6]) == .everything)
    let large = Linear(inputFeatures: 200, outputFeatures: 100, using: &generator)  // 20,100 parameters
    let sampling = GradientCheckSampling.automatic(for: large, inputShape: [2, 200], sampleSize: 16)
    #expect(sampling == GradientCheckSampling(fullUpTo: 16, sampleSize: 16))
  }

  /// The sample always holds the entries with the largest backpropagated gradient.
  @Test func samplesIncludeTheLargestGradients() {
    var generator = SeededGenerator(seed: 7)
    let analytic = Tensor(shape: [100], scalars: (0..<100).map { $0 == 37 ? 50 : $0 == 81 ? -60 : Float($0 % 7) / 10 })
    let indices = GradientCheckSampling(fullUpTo: 10, sampleSize: 4).indices(count: 100, analytic: analytic, using: &generator)
    #expect(indices.count == 4 && Set(indices).count == 4)
    #expect(indices.contains(37) && indices.contains(81))
  }

  /// Dropout draws a new mask per pass; the report rewinds it, or every row would be wrong.
  @Test func dropoutInsideANetworkIsRewound() {
    var generator = SeededGenerator(seed: 8)
    let network = Sequential {
      Linear(inputFeatures: 6, outputFeatures: 5, using: &generator)
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: 5, outputFeatures: 3, using: &generator)
    }
    let report = gradientCheckReport(of: network, input: .randomNormal([2, 6], using: &generator), using: &generator)
    #expect(report.verdict == .ok, "\(report)")
    #expect(report.rows.count == 5)
  }

  @Test func verdictThresholdsAndFormatting() {
    #expect(GradientCheckVerdict(error: 1e-2) == .ok)
    #expect(GradientCheckVerdict(error: 0.05) == .suspicious)
    #expect(GradientCheckVerdict(error: 0.2) == .wrong)
    #expect(GradientCheckVerdict(error: .nan) == .wrong)
    #expect(scientific(3.14e-4) == "3.1e-04")
    #expect(scientific(9.96) == "1.0e+01")
    #expect(scientific(0) == "0")
  }
}
