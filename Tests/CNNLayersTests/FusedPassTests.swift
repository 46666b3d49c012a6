import CNNTensor
import Testing

@testable import CNNLayers

/// The fused passes of ResNet-style networks, against the layers they stand for run one by one:
/// `BatchNormReLU` against `BatchNorm2D` then `ReLU`, and a `Residual` with a `ReLU` (one pass
/// for the sum and the ReLU) against the same residual with its ReLU behind a `Sequential`,
/// which it does not fuse. Outputs, input gradients, parameter gradients and running
/// statistics must be identical, bit for bit.
@Suite struct FusedPassTests {
  /// A batch of `shape` with exact zeros and a block of negatives, and an output gradient.
  static func data(_ shape: Shape, seed: UInt64) -> (x: Tensor, dy: Tensor) {
    var g = SeededGenerator(seed: seed)
    var x = Tensor.randomNormal(shape, mean: 0.3, using: &g)
    for i in stride(from: 0, to: x.scalarCount, by: 9) { x[offset: i] = 0 }
    for i in 0..<min(20, x.scalarCount) { x[offset: i] = -abs(x[offset: i]) - 0.5 }
    return (x, Tensor.randomNormal(shape, using: &g))
  }

  /// Two batch normalizations with the same random `γ` and `β`.
  static func twins(_ channels: Int) -> (BatchNorm2D, BatchNorm2D) {
    var g = SeededGenerator(seed: 5)
    let gamma = Tensor.randomNormal([channels], mean: 1, standardDeviation: 0.5, using: &g)
    let beta = Tensor.randomNormal([channels], standardDeviation: 0.5, using: &g)
    let (a, b) = (BatchNorm2D(featureCount: channels), BatchNorm2D(featureCount: channels))
    for layer in [a, b] {
      layer.weight.value = gamma
      layer.bias.value = beta
    }
    return (a, b)
  }

  /// Planes of 25 values (a vector body and a scalar tail) and of 64 (vectors only), on one
  /// thread and split over channels on three.
  @Test(arguments: [([4, 3, 5, 5], 1), ([2, 8, 8, 8], 3), ([3, 16, 1, 1], 1)] as [([Int], Int)])
  func batchNormReLUIsBatchNormThenReLU(dimensions: [Int], threads: Int) {
    let shape = Shape(dimensions)
    let (x, dy) = Self.data(shape, seed: UInt64(shape.scalarCount))
    let (plain, fusedNorm) = Self.twins(shape[1])
    plain.threads = threads
    fusedNorm.threads = threads
    let relu = ReLU()
    let (normalized, normPullback) = plain.forward(x, needsInputGradient: true)
    let (expected, reluPullback) = relu.forward(normalized, needsInputGradient: true)
    let expectedDInput = normPullback(reluPullback(dy))

    let fused = BatchNormReLU(batchNorm: fusedNorm, relu: ReLU())
    let (output, pullback) = fused.forward(x, needsInputGradient: true)
    let dInput = pullback(dy)
    #expect(output.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern))
    #expect(dInput.scalars.map(\.bitPattern) == expectedDInput.scalars.map(\.bitPattern))
    #expect(fusedNorm.weight.gradient == plain.weight.gradient)
    #expect(fusedNorm.bias.gradient == plain.bias.gradient)
    #expect(fusedNorm.runningMean.value == plain.runningMean.value)
    #expect(fusedNorm.runningVariance.value == plain.runningVariance.value)
    #expect(output.scalars.contains(0) && output.scalars.contains { $0 > 0 }, "the ReLU must clip some values")
    // Inference, with the running statistics.
    #expect(fused(x).scalars.map(\.bitPattern) == relu(plain(x)).scalars.map(\.bitPattern))
  }

  @Test func sequentialRunsBatchNormThenReLUAsOneStep() throws {
    let (norm, _) = Self.twins(3)
    let relu = ReLU()
    let network = Sequential([norm, relu, MaxPool2D(kernelSize: 2)])
    #expect(network.plan.count == 2)
    let fused = try #require(network.plan.first as? BatchNormReLU)
    #expect(fused.batchNorm === norm && fused.relu === relu)
    #expect(network.namedParameters.map(\.name) == ["0.weight", "0.bias"])
  }

  /// Identity and projection shortcuts, on maps whose element counts are and are not multiples
  /// of the 16-wide vectors.
  @Test(arguments: [false, true])
  func residualWithReLUIsSumThenReLU(projected: Bool) {
    var g = SeededGenerator(seed: 11)
    let shape: Shape = projected ? [2, 3, 5, 5] : [2, 4, 4, 4]
    let body = Sequential {
      Conv2D(inputChannels: shape[1], outputChannels: 4, kernelSize: 3, padding: 1, using: &g)
      Tanh()
    }
    let downsample: (any Layer)? =
      projected ? Conv2D(inputChannels: shape[1], outputChannels: 4, kernelSize: 1, using: &g) : nil
    let fused = Residual(body: body, downsample: downsample, activation: ReLU())
    let unfused = Residual(body: body, downsample: downsample, activation: Sequential([ReLU()]))
    let (x, _) = Self.data(shape, seed: 2)
    var s = SeededGenerator(seed: 4)
    let dy = Tensor.randomNormal([2, 4, shape[2], shape[3]], using: &s)

    let (expected, expectedPullback) = unfused.forward(x, needsInputGradient: true)
    let expectedDInput = expectedPullback(dy)
    let expectedGradients = fused.parameters.map(\.gradient)
    fused.zeroGradients()
    let (output, pullback) = fused.forward(x, needsInputGradient: true)
    let dInput = pullback(dy)
    #expect(output.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern))
    #expect(dInput.scalars.map(\.bitPattern) == expectedDInput.scalars.map(\.bitPattern))
    #expect(fused.parameters.map(\.gradient) == expectedGradients)
    #expect(fused(x).scalars.map(\.bitPattern) == unfused(x).scalars.map(\.bitPattern))
    #expect(output.scalars.contains(0) && output.scalars.contains { $0 > 0 }, "the ReLU must clip some values")
  }

  /// ReLU lets NaN through (as PyTorch does) and keeps −0, in the vector lanes and in the
  /// scalar tail alike; the scalar tail used to turn NaN into 0, so the same value gave another
  /// answer depending on where it sat.
  @Test func reluTreatsNaNAndNegativeZeroAlikeEverywhere() {
    let count = 37
    let x = Tensor(shape: [count], scalars: (0..<count).map { $0 % 2 == 0 ? .nan : -0.0 })
    let y = ReLU()(x)
    for i in 0..<count {
      if i % 2 == 0 {
        #expect(y.scalars[i].isNaN, "element \(i)")
      } else {
        #expect(y.scalars[i].bitPattern == Float(-0.0).bitPattern, "element \(i)")
      }
    }
  }
}
