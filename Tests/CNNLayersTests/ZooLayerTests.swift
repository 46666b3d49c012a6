import CNNTensor
import Testing

@testable import CNNLayers

/// The layers and containers the model zoo adds: gradient checks (as in `GradientCheckTests`,
/// tolerance 1e-2), values against PyTorch, and structural names.
@Suite struct ZooLayerTests {
  let tolerance: Float = 1e-2

  /// LeNet-5's RBF units: the negative squared distance to each code, worked by hand, and a
  /// code fed in exactly is its own class.
  @Test func euclideanRBFScoresAreNegativeSquaredDistances() throws {
    let rbf = EuclideanRBF(codes: Tensor(shape: [3, 2], scalars: [0, 0, 1, 2, 3, 0]))
    let scores = rbf(Tensor(shape: [1, 2], scalars: [1, 2]))
    #expect(scores.scalars == [-5, 0, -8])  // (1² + 2²), 0, (2² + 2²)
    #expect(try rbf.outputShape(for: [4, 2]) == [4, 3])
    #expect(throws: ShapeError.self) { try rbf.outputShape(for: [4, 3]) }
    let codes = EuclideanRBF.digitCodes(classes: 12)
    #expect(codes.shape == [12, 84] && codes.scalars.allSatisfy { $0 == 1 || $0 == -1 })
    let digits = EuclideanRBF(codes: codes)
    let seven = Tensor(shape: [1, 84], scalars: Array(codes.scalars[(7 * 84)..<(8 * 84)]))
    #expect(digits(seven).argmaxRows() == [7])
    // Every code is different from every other, and the two extra classes' codes are too.
    let rows = (0..<12).map { Array(codes.scalars[($0 * 84)..<(($0 + 1) * 84)]) }
    #expect(Set(rows.map { $0.map { $0 > 0 ? "#" : "." }.joined() }).count == 12)
  }

  func expectPasses(
    _ layer: any Layer, _ input: Tensor, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    var generator = SeededGenerator(seed: 7)
    let result = checkGradients(of: layer, input: input, epsilon: 1e-2, using: &generator)
    #expect(result.maxError < tolerance, "\(type(of: layer)): \(result)", sourceLocation: sourceLocation)
    #expect(result.parameterErrors.count == layer.namedParameters.count, sourceLocation: sourceLocation)
  }

  func expectClose(
    _ actual: [Float], _ expected: [Float], within limit: Float = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    let difference = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
    #expect(difference < limit, "got \(actual), expected \(expected)", sourceLocation: sourceLocation)
  }

  /// A batch-normalized input, with γ and β moved off 1 and 0 so every term of the backward
  /// formula matters.
  func batchNorm(channels: Int, using generator: inout SeededGenerator) -> BatchNorm2D {
    let norm = BatchNorm2D(featureCount: channels)
    norm.weight.value = .randomNormal([channels], mean: 1, standardDeviation: 0.5, using: &generator)
    norm.bias.value = .randomNormal([channels], using: &generator)
    return norm
  }

  // MARK: - Batch normalization

  @Test func batchNormGradientInTraining() {
    var g = SeededGenerator(seed: 21)
    expectPasses(batchNorm(channels: 3, using: &g), .randomNormal([4, 3, 3, 2], using: &g))
    expectPasses(batchNorm(channels: 2, using: &g), .randomNormal([2, 2, 1, 1], using: &g))
  }

  /// Large batches split the channels across threads: every output, gradient and running
  /// statistic has the same bits on one thread and on two.
  @Test func batchNormIsTheSameOnAnyThreadCount() {
    func run(threads: Int) -> [[Float]] {
      var g = SeededGenerator(seed: 22)
      let norm = batchNorm(channels: 16, using: &g)
      norm.threads = threads
      let input = Tensor.randomNormal([8, 16, 16, 16], mean: 0.5, standardDeviation: 2, using: &g)
      let (output, pullback) = norm.forward(input)
      let dInput = pullback(.randomNormal(output.shape, using: &g))
      return [
        output.scalars, dInput.scalars, norm.weight.gradient.scalars, norm.bias.gradient.scalars,
        norm.runningMean.value.scalars, norm.runningVariance.value.scalars, norm(input).scalars,
      ]
    }
    let one = run(threads: 1)
    let two = run(threads: 2)
    let identical = zip(one, two).allSatisfy { $0.elementsEqual($1) { $0.bitPattern == $1.bitPattern } }
    #expect(identical)
    #expect(one[0].count == 8 * 16 * 16 * 16 && one[1].contains { $0 != 0 })
  }

  /// Output and running statistics of one training batch, against PyTorch's `BatchNorm2d(2)`.
  @Test func batchNormTrainingMatchesPyTorch() {
    let norm = BatchNorm2D(featureCount: 2)
    let input = Tensor(
      shape: [2, 2, 2, 2], scalars: [1, 2, 3, 4, 0, 0, 1, 5, 2, 2, 0, -1, 3, 1, 1, 1])
    let (output, _) = norm.forward(input)
    expectClose(
      output.scalars,
      [
        -0.41812, 0.250872, 0.919864, 1.588856, -0.948681, -0.948681, -0.316227, 2.21359,
        0.250872, 0.250872, -1.087112, -1.756104, 0.948681, -0.316227, -0.316227, -0.316227,
      ])
    // running_mean = 0.9·0 + 0.1·μ; running_var = 0.9·1 + 0.1·(unbiased σ²).
    expectClose(norm.runningMean.value.scalars, [0.1625, 0.15])
    expectClose(norm.runningVariance.value.scalars, [1.1553571, 1.1857142])
    #expect(norm.batchesTracked.value.scalars == [1])
    _ = norm.forward(input)
    #expect(norm.batchesTracked.value.scalars == [2])
    expectClose(norm.runningMean.value.scalars, [0.1625 * 1.9, 0.15 * 1.9])
  }

  @Test func batchNormInferenceUsesRunningStatistics() {
    let norm = BatchNorm2D(featureCount: 2, epsilon: 1e-3)
    norm.weight.value = Tensor(shape: [2], scalars: [2, 0.5])
    norm.bias.value = Tensor(shape: [2], scalars: [1, -1])
    norm.runningMean.value = Tensor(shape: [2], scalars: [3, -2])
    norm.runningVariance.value = Tensor(shape: [2], scalars: [4, 0.25])
    let input = Tensor(shape: [1, 2, 1, 2], scalars: [3, 5, -2, 0])
    let output = norm(input)
    func expected(_ x: Float, _ mean: Float, _ variance: Float, _ gamma: Float, _ beta: Float) -> Float {
      gamma * (x - mean) / (variance + 1e-3).squareRoot() + beta
    }
    expectClose(
      output.scalars,
      [
        expected(3, 3, 4, 2, 1), expected(5, 3, 4, 2, 1), expected(-2, -2, 0.25, 0.5, -1),
        expected(0, -2, 0.25, 0.5, -1),
      ])
    // Inference leaves the statistics alone.
    #expect(norm.runningMean.value.scalars == [3, -2])
    #expect(norm.batchesTracked.value.scalars == [0])
  }

  @Test func batchNormNamesAndShapes() {
    let norm = BatchNorm2D(featureCount: 5)
    #expect(norm.namedParameters.map(\.name) == ["weight", "bias"])
    #expect(norm.namedBuffers.map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
    #expect(norm.buffer(named: "num_batches_tracked")?.shape == [])
    #expect(norm.parameterCount == 10)
    var g = SeededGenerator(seed: 1)
    let network = Sequential {
      Conv2D(inputChannels: 1, outputChannels: 5, kernelSize: 3, bias: false, using: &g)
      norm
      ReLU()
    }
    #expect(network.namedParameters.map(\.name) == ["0.weight", "1.weight", "1.bias"])
    #expect(network.namedBuffers.map(\.name) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
    #expect(network.buffer(named: "1.running_var") === norm.runningVariance)
    // Layers without buffers report none, through the default walk.
    #expect(Conv2D(inputChannels: 1, outputChannels: 1, kernelSize: 1, using: &g).namedBuffers.isEmpty)
  }

  // MARK: - Local response normalization

  @Test func localResponseNormMatchesPyTorch() {
    let input = Tensor(shape: [1, 4, 2, 2], scalars: (0..<16).map { Float($0) / 10 - 0.7 })
    let even = LocalResponseNorm(size: 2, alpha: 0.3, beta: 0.75, k: 1.5)(input)
    expectClose(
      even.scalars,
      [
        -0.498251, -0.431085, -0.362125, -0.291623, -0.212172, -0.14328, -0.072372, 0.0,
        0.07323, 0.146678, 0.219691, 0.291623, 0.36186, 0.429841, 0.495069, 0.557126,
      ])
    let odd = LocalResponseNorm(size: 3, alpha: 0.3, beta: 0.75, k: 1.5)(input)
    expectClose(
      odd.scalars,
      [
        -0.501964, -0.434021, -0.36417, -0.292776, -0.215024, -0.144392, -0.072513, 0.0,
        0.072513, 0.144392, 0.215024, 0.283836, 0.36417, 0.434021, 0.501964, 0.567672,
      ])
  }

  @Test(arguments: [1, 2, 3, 5])
  func localResponseNormGradient(size: Int) {
    var g = SeededGenerator(seed: 22)
    // A large α makes the normalization matter.
    expectPasses(LocalResponseNorm(size: size, alpha: 2, beta: 0.75, k: 1), .randomNormal([2, 6, 2, 3], using: &g))
  }

  // MARK: - Pooling to a fixed size

  @Test func globalAveragePooling() throws {
    var g = SeededGenerator(seed: 23)
    let pool = GlobalAvgPool2D()
    let input = Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, -1, -1, 5, 5])
    #expect(pool(input).shape == [1, 2])
    #expect(pool(input).scalars == [2.5, 2])
    #expect(try pool.outputShape(for: [3, 512, 7, 7]) == [3, 512])
    expectPasses(pool, .randomNormal([2, 3, 3, 4], using: &g))
  }

  /// PyTorch: `nn.AdaptiveAvgPool2d((3, 2))(torch.arange(35.).reshape(1, 1, 5, 7))`, and
  /// `(3, 3)` on a 2×2 input (windows repeat).
  @Test func adaptiveAveragePoolingMatchesPyTorch() {
    let input = Tensor(shape: [1, 1, 5, 7], scalars: (0..<35).map(Float.init))
    expectClose(AdaptiveAvgPool2D(outputSize: Size2D(height: 3, width: 2))(input).scalars, [5, 8, 15.5, 18.5, 26, 29])
    let small = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 2, 3])
    expectClose(AdaptiveAvgPool2D(outputSize: 3)(small).scalars, [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3])
    // 13 → 6: windows ⌊i·13/6⌋ ..< ⌈(i+1)·13/6⌉.
    #expect(
      (0..<6).map { AdaptiveAvgPool2D.window($0, outputCount: 6, inputCount: 13) } == [
        0..<3, 2..<5, 4..<7, 6..<9, 8..<11, 10..<13,
      ])
    // When the output divides the input it is plain average pooling.
    var g = SeededGenerator(seed: 24)
    let x = Tensor.randomNormal([2, 3, 6, 4], using: &g)
    expectClose(
      AdaptiveAvgPool2D(outputSize: Size2D(height: 3, width: 2))(x).scalars, AvgPool2D(kernelSize: 2)(x).scalars)
  }

  @Test func adaptiveAveragePoolingGradient() {
    var g = SeededGenerator(seed: 25)
    expectPasses(AdaptiveAvgPool2D(outputSize: Size2D(height: 3, width: 2)), .randomNormal([2, 2, 5, 7], using: &g))
    expectPasses(AdaptiveAvgPool2D(outputSize: 3), .randomNormal([1, 2, 2, 2], using: &g))
  }

  // MARK: - Residual

  @Test func residualIdentityShortcut() throws {
    var g = SeededGenerator(seed: 26)
    let conv = Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, using: &g)
    let residual = Residual(activation: Tanh()) { conv }
    let input = Tensor.randomNormal([2, 2, 4, 4], using: &g)
    // y = tanh(conv(x) + x).
    let expected = Tanh()(conv(input) + input)
    expectClose(residual(input).scalars, expected.scalars)
    #expect(try residual.outputShape(for: [2, 2, 4, 4]) == [2, 2, 4, 4])
    expectPasses(residual, input)
  }

  @Test func residualWithProjection() throws {
    var g = SeededGenerator(seed: 27)
    let body = Sequential {
      Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, bias: false, using: &g)
      batchNorm(channels: 3, using: &g)
    }
    let projection = Sequential {
      Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 1, stride: 2, bias: false, using: &g)
      batchNorm(channels: 3, using: &g)
    }
    let residual = Residual(body: body, downsample: projection, activation: Tanh())
    #expect(try residual.outputShape(for: [2, 2, 5, 5]) == [2, 3, 3, 3])
    expectPasses(residual, .randomNormal([2, 2, 5, 5], using: &g))
    // The body's names are the residual's own; the projection's sit under `downsample`.
    #expect(
      residual.namedParameters.map(\.name) == [
        "0.weight", "1.weight", "1.bias", "downsample.0.weight", "downsample.1.weight", "downsample.1.bias",
      ])
    #expect(residual.namedBuffers.map(\.name).contains("downsample.1.running_mean"))
    #expect(residual.namedBuffers.count == 6)
  }

  // MARK: - Concatenate

  @Test func concatenateJoinsChannels() throws {
    var g = SeededGenerator(seed: 28)
    let a = Conv2D(inputChannels: 3, outputChannels: 2, kernelSize: 1, using: &g)
    let b = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1, using: &g)
    let concatenate = Concatenate {
      a
      Sequential {
        b
        Tanh()
      }
      MaxPool2D(kernelSize: 3, stride: 1, padding: 1)
    }
    let input = Tensor.randomNormal([2, 3, 4, 5], using: &g)
    #expect(try concatenate.outputShape(for: input.shape) == [2, 9, 4, 5])
    let output = concatenate(input)
    #expect(output.shape == [2, 9, 4, 5])
    // Image 1, channel 2 of the output is channel 0 of the second branch.
    let second = Tanh()(b(input))
    #expect(output[1, 2, 3, 4] == second[1, 0, 3, 4])
    #expect(output[0, 0, 1, 1] == a(input)[0, 0, 1, 1])
    #expect(
      concatenate.namedParameters.map(\.name) == [
        "branch1.weight", "branch1.bias", "branch2.0.weight", "branch2.0.bias",
      ])
    expectPasses(concatenate, spacedInput([2, 3, 4, 5], using: &g))
  }

  @Test func concatenateReportsMismatchedBranches() {
    let shapes: [Shape] = [[1, 2, 4, 4], [1, 3, 3, 3]]
    guard case .failure(let error) = Concatenate.joinedShape(shapes) else {
      Issue.record("expected a failure")
      return
    }
    #expect(error.description.contains("[1, 3, 3, 3]"))
  }
}
