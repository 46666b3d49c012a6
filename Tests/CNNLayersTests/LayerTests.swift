import CNNTensor
import Testing

@testable import CNNLayers

@Suite struct LayerTests {
  /// The seeds' parameter arithmetic: a conv layer has `F·F·C·K + K` parameters.
  @Test(arguments: [(5, 1, 30), (3, 128, 64), (11, 3, 96), (1, 128, 32)])
  func convParameterCount(f: Int, c: Int, k: Int) {
    var g = SeededGenerator(seed: 1)
    let conv = Conv2D(inputChannels: c, outputChannels: k, kernelSize: Size2D(f), using: &g)
    #expect(conv.parameterCount == f * f * c * k + k)
  }

  /// Seeds 002/003: 28×28×1 with F=4, S=2, P=1, K=64 gives 14×14×64.
  @Test func seedOutputSize() throws {
    var g = SeededGenerator(seed: 1)
    let conv = Conv2D(inputChannels: 1, outputChannels: 64, kernelSize: 4, stride: 2, padding: 1, using: &g)
    #expect(try conv.outputShape(for: [8, 1, 28, 28]) == [8, 64, 14, 14])
    #expect(conv.forward(.zeros([2, 1, 28, 28])).output.shape == [2, 64, 14, 14])
  }

  @Test func samePaddingKeepsSizeAndHalvesWithStride2() throws {
    #expect(Padding.same.resolved(height: 28, width: 28, kernel: 5, stride: 1) == (2, 2, 2, 2))
    // Keras 'same' with a 3×3 window at stride 2 on 32×32: 16×16, one extra row/column at the end.
    let pool = MaxPool2D(kernelSize: 3, stride: 2, padding: .same)
    #expect(try pool.outputShape(for: [1, 64, 32, 32]) == [1, 64, 16, 16])
    #expect(Padding.same.resolved(height: 32, width: 32, kernel: 3, stride: 2) == (0, 1, 0, 1))
  }

  @Test func sequentialNamesParametersByPosition() throws {
    var g = SeededGenerator(seed: 1)
    let network = Sequential {
      Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, using: &g)
      ReLU()
      Flatten()
      Linear(inputFeatures: 2 * 4 * 4, outputFeatures: 3, bias: false, using: &g)
    }
    #expect(network.namedParameters.map(\.name) == ["0.weight", "0.bias", "3.weight"])
    #expect(try network.outputShape(for: [5, 1, 6, 6]) == [5, 3])
    #expect(network.parameter(named: "3.weight")?.shape == [3, 32])
  }

  @Test func childrenNameNestedLayers() {
    var g = SeededGenerator(seed: 1)
    final class Block: Layer {
      let scale = Parameter(.zeros([1]))
      let conv1: Conv2D
      let extra: [Linear]
      let dropout = Dropout(rate: 0.5, seed: 1)
      init(using g: inout SeededGenerator) {
        conv1 = Conv2D(inputChannels: 1, outputChannels: 1, kernelSize: 1, bias: false, using: &g)
        extra = [Linear(inputFeatures: 1, outputFeatures: 1, using: &g)]
      }
      var ownParameters: [(name: String, parameter: Parameter)] { [("scale", scale)] }
      var children: [(name: String, layer: any Layer)] {
        [("conv1", conv1), ("extra", Sequential(extra)), ("dropout", dropout)]
      }
      func outputShape(for input: Shape) -> Shape { input }
      func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) { (input, { $0 }) }
    }
    let block = Block(using: &g)
    #expect(block.namedParameters.map(\.name) == ["scale", "conv1.weight", "extra.0.weight", "extra.0.bias"])
    #expect(block.parameters.count == 4 && zip(block.parameters, block.namedParameters).allSatisfy { $0 === $1.parameter })
    #expect(block.parameterCount == 4)
    #expect(block.namedDescendants.map(\.name) == ["", "conv1", "extra", "extra.0", "dropout"])
    #expect(block.layers(ofType: Dropout.self).count == 1 && block.layers(ofType: Dropout.self)[0] === block.dropout)
    #expect(block.layers(ofType: Linear.self)[0] === block.extra[0])

    // A residual's body lends its names unprefixed; batch norm's buffers follow the same scheme.
    let residual = Residual(downsample: BatchNorm2D(featureCount: 1)) { BatchNorm2D(featureCount: 1) }
    #expect(residual.namedParameters.map(\.name) == ["0.weight", "0.bias", "downsample.weight", "downsample.bias"])
    #expect(
      residual.namedBuffers.map(\.name) == [
        "0.running_mean", "0.running_var", "0.num_batches_tracked",
        "downsample.running_mean", "downsample.running_var", "downsample.num_batches_tracked",
      ])
  }

  @Test func dropoutIsIdentityInInferenceAndScalesInTraining() {
    let dropout = Dropout(rate: 0.25, seed: 3)
    let x = Tensor(repeating: 1, shape: [1000])
    #expect(dropout(x) == x)
    let y = dropout.forward(x).output
    let kept = y.scalars.filter { $0 != 0 }
    #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
    #expect(abs(Float(kept.count) / 1000 - 0.75) < 0.05)
  }

  @Test func softmaxCrossEntropyIsStableAndCorrect() {
    // Logits of 1000 would overflow a naive exp; log-sum-exp handles them.
    let logits = Tensor(shape: [2, 3], scalars: [1000, 0, -1000, 1, 2, 3])
    let (loss, dLogits) = softmaxCrossEntropy(logits: logits, labels: [0, 2])
    // Row 0: loss 0. Row 1: log(e¹ + e² + e³) − 3 = 0.40760596.
    #expect(abs(loss - 0.40760596 / 2) < 1e-6)
    let p = [0.09003057, 0.24472847, 0.66524096] as [Float]
    let expected: [Float] = [0, 0, 0, p[0] / 2, p[1] / 2, (p[2] - 1) / 2]
    for (a, b) in zip(dLogits.scalars, expected) { #expect(abs(a - b) < 1e-6) }
  }

  @Test func weightInitialisationScales() {
    var g = SeededGenerator(seed: 1)
    func std(_ t: Tensor) -> Float {
      let mean = t.sum() / Float(t.scalarCount)
      return (t.scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(t.scalarCount)).squareRoot()
    }
    let shape: Shape = [200, 100]
    #expect(abs(std(WeightInitialization.normal(standardDeviation: 0.01).weights(shape, fanIn: 100, fanOut: 200, using: &g)) - 0.01) < 0.0005)
    #expect(abs(std(WeightInitialization.he.weights(shape, fanIn: 100, fanOut: 200, using: &g)) - (2.0 / 100).squareRoot()) < 0.005)
    #expect(abs(std(WeightInitialization.xavier.weights(shape, fanIn: 100, fanOut: 200, using: &g)) - (2.0 / 300).squareRoot()) < 0.005)
  }
}

/// Gradients take memory on first use, as PyTorch's `.grad` does.
@Suite struct ParameterGradientTests {
  /// Inference and `zeroGradient()` leave them unallocated; they then read as zeros, a
  /// pullback allocates them, and `+=` accumulates in place (the same buffer, not a copy of
  /// the tensor per call, which the getter and setter alone would make).
  @Test func gradientsAreTakenOnFirstUse() {
    var g = SeededGenerator(seed: 1)
    let layer = Linear(inputFeatures: 6, outputFeatures: 4, using: &g)
    let input = Tensor.randomNormal([3, 6], using: &g)
    _ = layer(input)
    for p in layer.parameters { p.zeroGradient() }
    #expect(layer.parameters.allSatisfy { $0.storedGradient == nil })
    let weight = layer.parameters[0]
    #expect(weight.gradient == .zeros(weight.shape))

    let (output, pullback) = layer.forward(input)
    _ = pullback(Tensor(repeating: 1, shape: output.shape))
    #expect(layer.parameters.allSatisfy { $0.storedGradient != nil })
    let expected = weight.gradient.scalars.map { $0 + 1 }  // a new array: nothing else shares the buffer
    let address = weight.gradient.withUnsafeBufferPointer { $0.baseAddress }
    weight.accumulateGradient(Tensor(repeating: 1, shape: weight.shape))
    #expect(weight.gradient.withUnsafeBufferPointer { $0.baseAddress } == address)
    #expect(weight.gradient.scalars == expected)
    weight.zeroGradient()
    #expect(weight.gradient == .zeros(weight.shape))
  }
}
