import CNNTensor
import Testing

@testable import CNNLayers

/// Every layer's pullback against central differences. Float32 central differences with
/// the default ε = 1e-3 agree to about 1e-4–1e-3 of the gradient's scale; the tolerance is 1e-2.
@Suite struct GradientCheckTests {
  let tolerance: Float = 1e-2

  func expectPasses(_ layer: any Layer, _ input: Tensor, prepare: () -> Void = {}, sourceLocation: SourceLocation = #_sourceLocation) {
    var generator = SeededGenerator(seed: 7)
    let result = checkGradients(of: layer, input: input, using: &generator, prepare: prepare)
    #expect(result.maxError < tolerance, "\(type(of: layer)): \(result)", sourceLocation: sourceLocation)
    // The check must actually see gradients: a zero pullback would fail on a non-zero numeric one.
    #expect(result.parameterErrors.count == layer.namedParameters.count, sourceLocation: sourceLocation)
  }

  @Test func conv2DStrideAndPadding() {
    var g = SeededGenerator(seed: 1)
    let conv = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1, using: &g)
    expectPasses(conv, .randomNormal([2, 3, 7, 6], using: &g))
  }

  /// LeNet-5's RBF output: no parameters (the codes are fixed), so the input gradient is the
  /// whole check; against the digit codes and against random ones.
  @Test func euclideanRBF() {
    var g = SeededGenerator(seed: 11)
    let rbf = EuclideanRBF(codes: EuclideanRBF.digitCodes(classes: 10))
    #expect(rbf.namedParameters.isEmpty && rbf.namedBuffers.map(\.name) == ["codes"])
    expectPasses(rbf, .randomNormal([3, 84], using: &g) * 0.5)
    let small = EuclideanRBF(codes: .randomNormal([4, 6], using: &g))
    var generator = SeededGenerator(seed: 7)
    let result = checkGradients(of: small, input: .randomNormal([2, 6], using: &g), using: &generator)
    #expect(result.inputError < tolerance && result.inputError.isFinite, "\(result)")
  }

  /// LeNet-5's squashing function, 1.7159·tanh(2x/3): f(±1) = ±1.
  @Test func scaledTanh() {
    var g = SeededGenerator(seed: 12)
    let layer = ScaledTanh()
    let ends = layer(Tensor(shape: [2], scalars: [1, -1])).scalars
    #expect(abs(ends[0] - 1) < 1e-3 && abs(ends[1] + 1) < 1e-3, "\(ends)")
    expectPasses(layer, .randomNormal([2, 3, 4, 4], using: &g) * 2)
  }

  @Test func conv2DNonSquareKernelAsymmetricPaddingNoBias() {
    var g = SeededGenerator(seed: 2)
    let conv = Conv2D(
      inputChannels: 2, outputChannels: 3, kernelSize: Size2D(height: 3, width: 2), stride: Size2D(height: 1, width: 2),
      padding: .explicit(top: 0, bottom: 2, left: 1, right: 0), bias: false, using: &g)
    #expect(conv.bias == nil)
    expectPasses(conv, .randomNormal([2, 2, 5, 7], using: &g))
  }

  @Test func conv2DSamePaddingAndGroups() throws {
    var g = SeededGenerator(seed: 3)
    let conv = Conv2D(inputChannels: 4, outputChannels: 6, kernelSize: 3, padding: .same, groups: 2, using: &g)
    #expect(try conv.outputShape(for: [1, 4, 5, 5]) == [1, 6, 5, 5])
    expectPasses(conv, .randomNormal([2, 4, 5, 5], using: &g))
  }

  @Test(arguments: PoolingModeCase.allCases)
  func pooling(mode: PoolingModeCase) {
    var g = SeededGenerator(seed: 4)
    expectPasses(mode.make(kernel: 2, stride: 2, padding: 0), spacedInput([2, 3, 6, 6], using: &g))
    expectPasses(mode.make(kernel: 3, stride: 2, padding: 1), spacedInput([1, 2, 7, 7], using: &g))
  }

  @Test func activations() {
    var g = SeededGenerator(seed: 5)
    expectPasses(ReLU(), spacedInput([2, 3, 4, 4], using: &g))
    expectPasses(Sigmoid(), .randomNormal([2, 3, 4, 4], using: &g))
    expectPasses(Tanh(), .randomNormal([2, 3, 4, 4], using: &g))
  }

  @Test func linearAndFlatten() {
    var g = SeededGenerator(seed: 6)
    expectPasses(Linear(inputFeatures: 12, outputFeatures: 5, using: &g), .randomNormal([3, 12], using: &g))
    expectPasses(Linear(inputFeatures: 7, outputFeatures: 4, bias: false, using: &g), .randomNormal([2, 7], using: &g))
    expectPasses(Flatten(), .randomNormal([2, 3, 2, 2], using: &g))
  }

  @Test func dropoutWithAFixedMask() {
    var g = SeededGenerator(seed: 8)
    let dropout = Dropout(rate: 0.5, seed: 99)
    let saved = dropout.generator
    expectPasses(dropout, .randomNormal([4, 10], using: &g), prepare: { dropout.generator = saved })
  }

  @Test func sequentialNetwork() {
    var g = SeededGenerator(seed: 9)
    let network = Sequential {
      Conv2D(inputChannels: 1, outputChannels: 3, kernelSize: 3, padding: 1, using: &g)
      Tanh()
      AvgPool2D(kernelSize: 2)
      Flatten()
      Linear(inputFeatures: 3 * 3 * 3, outputFeatures: 4, using: &g)
      Sigmoid()
    }
    expectPasses(network, .randomNormal([2, 1, 6, 6], using: &g))
  }

  @Test func softmaxCrossEntropyGradient() {
    var g = SeededGenerator(seed: 10)
    let logits = Tensor.randomNormal([4, 5], standardDeviation: 3, using: &g)
    let labels = [0, 3, 4, 1]
    let (_, dLogits) = softmaxCrossEntropy(logits: logits, labels: labels)
    let numeric = numericalGradient(of: { Double(softmaxCrossEntropyLoss(logits: $0, labels: labels)) }, at: logits, epsilon: 1e-2)
    #expect(relativeError(dLogits, numeric) < tolerance)
  }

  /// The fused execution steps of `Sequential`, checked as layers of their own (2×2 pooling
  /// runs the one-step kernel, 3×3 stride 2 the three layers).
  @Test func fusedSteps() {
    var g = SeededGenerator(seed: 12)
    for pool in [MaxPool2D(kernelSize: 2, stride: 2), MaxPool2D(kernelSize: 3, stride: 2, padding: 1)] {
      let conv = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, using: &g)
      expectPasses(Conv2DMaxPoolReLU(convolution: conv, relu: ReLU(), pool: pool), .randomNormal([2, 2, 6, 6], using: &g))
      expectPasses(PoolThenReLU(relu: ReLU(), pool: pool), spacedInput([2, 3, 6, 6], using: &g))
    }
    expectPasses(BatchNormReLU(batchNorm: BatchNorm2D(featureCount: 3), relu: ReLU()), spacedInput([2, 3, 5, 5], using: &g))
  }

  /// Regression: with the old default ε = 1e-2, correct conv → ReLU → conv stacks and
  /// residual blocks reported relative errors of 0.02–0.14 (a probe crosses a hidden ReLU's
  /// kink); the default ε = 1e-3 brings these to about 3e-4, and ε = 1e-2 still fails them, so
  /// the test can fail. A kink can still fall within 1e-3 of a probe (in a probe of six seeds,
  /// 2 of 12 such stacks gave 0.02–0.04), hence the fixed seed.
  @Test func defaultEpsilonPassesCorrectStacksWithHiddenKinks() {
    var g = SeededGenerator(seed: 2)
    let stack = Sequential {
      Conv2D(inputChannels: 2, outputChannels: 4, kernelSize: 3, padding: 1, using: &g)
      ReLU()
      Conv2D(inputChannels: 4, outputChannels: 3, kernelSize: 3, padding: 1, using: &g)
    }
    let block = Residual(activation: ReLU()) {
      Conv2D(inputChannels: 3, outputChannels: 3, kernelSize: 3, padding: 1, using: &g)
      ReLU()
      Conv2D(inputChannels: 3, outputChannels: 3, kernelSize: 3, padding: 1, using: &g)
    }
    let cases: [(any Layer, Tensor)] = [
      (stack, .randomNormal([2, 2, 6, 6], using: &g)), (block, .randomNormal([2, 3, 5, 5], using: &g)),
    ]
    for (layer, input) in cases {
      var generator = SeededGenerator(seed: 7)
      let result = checkGradients(of: layer, input: input, using: &generator)
      #expect(result.maxError < 1e-3, "\(type(of: layer)): \(result)")
      generator = SeededGenerator(seed: 7)
      let coarse = checkGradients(of: layer, input: input, epsilon: 1e-2, using: &generator)
      #expect(coarse.maxError > tolerance, "\(type(of: layer)) at ε = 1e-2: \(coarse)")
    }
  }

  /// The checker itself must fail on a wrong pullback.
  @Test func checkerCatchesAWrongGradient() {
    var g = SeededGenerator(seed: 11)
    let result = checkGradients(of: DoublingWithWrongGradient(), input: .randomNormal([2, 3], using: &g), using: &g)
    #expect(result.inputError > 0.4)
  }
}

/// The pooling modes as test arguments.
enum PoolingModeCase: CaseIterable, Sendable, CustomTestStringConvertible {
  case max, average, min

  func make(kernel: Int, stride: Int, padding: Int) -> Pool2D {
    switch self {
    case .max: return MaxPool2D(kernelSize: Size2D(kernel), stride: Size2D(stride), padding: .symmetric(padding))
    case .average: return AvgPool2D(kernelSize: Size2D(kernel), stride: Size2D(stride), padding: .symmetric(padding))
    case .min: return MinPool2D(kernelSize: Size2D(kernel), stride: Size2D(stride), padding: .symmetric(padding))
    }
  }

  var testDescription: String { "\(self)" }
}

/// `y = 2x` whose pullback wrongly returns `dy` instead of `2·dy`.
final class DoublingWithWrongGradient: Layer {
  func outputShape(for input: Shape) -> Shape { input }
  func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    (input * 2, { $0 })
  }
}
