import CNNTensor
import Testing

@testable import CNNLayers

/// `Sequential` runs the plan of `fusionPass`: a Conv2D → ReLU → max-pool as one
/// `Conv2DMaxPoolReLU` step, any other ReLU → max-pool as `PoolThenReLU` (pooling first).
/// The results must be those of the layers run one by one in their own order, bit for bit,
/// and the names those of the declared layers.
@Suite struct SequentialOrderTests {
  @Test func fusionPassFusesExactlyTheReLUMaxPoolRuns() throws {
    var g = SeededGenerator(seed: 1)
    let conv = Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 1, using: &g)
    let fusedConv = Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 1, using: &g)
    let layers: [any Layer] = [
      ReLU(), MaxPool2D(kernelSize: 2), conv,
      ReLU(), AvgPool2D(kernelSize: 2), ReLU(), MinPool2D(kernelSize: 2), Tanh(), MaxPool2D(kernelSize: 2),
      ReLU(), MaxPool2D(kernelSize: 2), ReLU(), fusedConv, ReLU(), MaxPool2D(kernelSize: 3, stride: 2), Sigmoid(),
    ]
    let plan = Sequential.fusionPass(layers)
    #expect(
      plan.map { String(describing: type(of: $0)) } == [
        "PoolThenReLU", "Conv2D", "ReLU", "AvgPool2D", "ReLU", "MinPool2D", "Tanh", "MaxPool2D",
        "PoolThenReLU", "ReLU", "Conv2DMaxPoolReLU", "Sigmoid",
      ])
    #expect(plan[1] === conv)
    let fused = try #require(plan[10] as? Conv2DMaxPoolReLU)
    #expect(fused.convolution === fusedConv && fused.relu === layers[13] && fused.pool === layers[14])
    #expect(Sequential.fusionPass([]).isEmpty)

    // The names are the declared layers' positions, not the plan's.
    let network = Sequential(layers)
    #expect(network.plan.count == 12)
    #expect(network.namedParameters.map(\.name) == ["2.weight", "2.bias", "12.weight", "12.bias"])
    let expected: [Parameter?] = [conv.weight, conv.bias, fusedConv.weight, fusedConv.bias]
    #expect(network.parameters.count == 4 && zip(network.parameters, expected).allSatisfy { $0 === $1 })
  }

  /// Layers run one after another in `layers`' order, with their pullbacks chained by hand.
  func reference(_ layers: [any Layer], _ x: Tensor, _ dOutput: (Tensor) -> Tensor) -> (Tensor, Tensor) {
    var value = x
    var pullbacks: [Pullback] = []
    for layer in layers {
      let (y, pullback) = layer.forward(value, needsInputGradient: true)
      pullbacks.append(pullback)
      value = y
    }
    let dInput = pullbacks.reversed().reduce(dOutput(value)) { $1($0) }
    return (value, dInput)
  }

  /// Conv → ReLU → max-pool (2×2, and 3×3 stride 2 with padding, whose windows overlap) →
  /// flatten → linear: outputs, input gradient and every parameter gradient are identical.
  /// The input holds exact zeros and ties, and some windows are all negative.
  /// With a 2×2 pool the convolution, pool and ReLU run as one kernel (`Conv2DMaxPoolReLU`,
  /// image by image, or for batches of small maps in blocks of images; otherwise the step runs
  /// the three layers); 9×9 images give odd 7×7 convolution outputs, whose last row and column
  /// no window covers; two groups split the channels; batches of 6 and 7 run in blocks of
  /// images, and 4×4 images give 2×2 convolution outputs (one GEMM per output position);
  /// 16 channels into 32 over a batch of six 16×16 images (294 tiles) run as Winograd.
  @Test(arguments: [
    (2, 2, Padding.valid, 8, 1, 2, 2), (2, 2, Padding.valid, 9, 2, 2, 2), (3, 2, Padding.same, 8, 1, 2, 2),
    (2, 2, Padding.valid, 8, 1, 6, 2), (2, 2, Padding.valid, 9, 2, 7, 2), (2, 2, Padding.valid, 4, 1, 5, 2),
    (2, 2, Padding.valid, 16, 1, 6, 16),
  ])
  func swappedOrderGivesIdenticalResults(
    kernel: Int, step: Int, padding: Padding, side: Int, groups: Int, batch: Int, channels: Int
  ) throws {
    var g = SeededGenerator(seed: 7)
    let conv = Conv2D(
      inputChannels: channels, outputChannels: 2 * channels, kernelSize: 3, padding: side == 8 ? .same : .valid,
      groups: groups, using: &g)
    let pool = MaxPool2D(kernelSize: Size2D(kernel), stride: Size2D(step), padding: padding)
    let convolved = try conv.outputShape(for: [batch, channels, side, side])
    let pooled = try pool.outputShape(for: convolved)
    let linear = Linear(inputFeatures: pooled.scalarCount / batch, outputFeatures: 4, using: &g)
    let layers: [any Layer] = [conv, ReLU(), pool, Flatten(), linear]
    let network = Sequential(layers)
    #expect(network.plan.count == 3)
    let fused = try #require(network.plan.first as? Conv2DMaxPoolReLU)
    #expect(fused.runsFused(input: [batch, channels, side, side]) == (kernel == 2))

    var x = Tensor.randomNormal([batch, channels, side, side], using: &g)
    for i in stride(from: 0, to: x.scalarCount, by: 5) { x[offset: i] = 0 }  // exact zeros
    for i in stride(from: 1, to: x.scalarCount, by: 7) { x[offset: i] = x[offset: i - 1] }  // ties
    for i in 0..<32 { x[offset: i] = -abs(x[offset: i]) - 1 }  // all-negative windows
    let dOutput = { (y: Tensor) in
      var s = SeededGenerator(seed: 3)
      return Tensor.randomNormal(y.shape, using: &s)
    }

    let (expectedOutput, expectedDInput) = reference(layers, x, dOutput)
    let expectedGradients = network.parameters.map(\.gradient)
    network.parameters.forEach { $0.zeroGradient() }

    let (output, pullback) = network.forward(x, needsInputGradient: true)
    let dInput = pullback(dOutput(output))
    #expect(output == expectedOutput)
    #expect(dInput == expectedDInput)
    #expect(network.parameters.map(\.gradient) == expectedGradients)
    #expect(network(x) == expectedOutput)
  }
}
