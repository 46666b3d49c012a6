import CNNLayers
import CNNTensor
import Testing

@testable import CNNModels

@Suite struct SimpleConvNetTests {
  /// Seeds 000/004: 780 + 432,100 + 1,010 = 433,890 parameters.
  @Test func parameterCountAndNames() {
    var g = SeededGenerator(seed: 1)
    let model = SimpleConvNet(using: &g)
    #expect(model.parameterCount == 433_890)
    #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "4.weight", "4.bias", "6.weight", "6.bias"])
    #expect(model.parameter(named: "0.weight")?.shape == [30, 1, 5, 5])
    #expect(model.parameter(named: "4.weight")?.shape == [100, 4320])
  }

  @Test func shapesFlowThroughTheNetwork() throws {
    var g = SeededGenerator(seed: 1)
    let model = SimpleConvNet(using: &g)
    #expect(try model.outputShape(for: [7, 1, 28, 28]) == [7, 10])
    let shapes = try model.layers.reduce(into: [Shape([7, 1, 28, 28])]) { $0.append(try $1.outputShape(for: $0[$0.count - 1])) }
    #expect(shapes.map(\.description) == [
      "[7, 1, 28, 28]", "[7, 30, 24, 24]", "[7, 30, 24, 24]", "[7, 30, 12, 12]", "[7, 4320]", "[7, 100]", "[7, 100]", "[7, 10]",
    ])
    let (logits, pullback) = model.forward(.randomNormal([3, 1, 28, 28], using: &g))
    #expect(logits.shape == [3, 10])
    #expect(pullback(.randomNormal([3, 10], using: &g)).shape == [3, 1, 28, 28])
  }

  /// The book initialises with std 0.01 and zero biases.
  @Test func seedInitialisation() {
    var g = SeededGenerator(seed: 1)
    let model = SimpleConvNet(using: &g)
    let weights = model.parameter(named: "4.weight")?.value.scalars ?? []
    let mean = weights.reduce(0, +) / Float(weights.count)
    let std = (weights.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(weights.count)).squareRoot()
    #expect(abs(std - 0.01) < 0.0005)
    #expect(model.parameter(named: "4.bias")?.value.scalars.allSatisfy { $0 == 0 } == true)
  }

  @Test func otherInputSizes() throws {
    var g = SeededGenerator(seed: 1)
    let model = SimpleConvNet(inputShape: [3, 32, 32], classCount: 5, using: &g)
    // 32 → conv 28 → pool 14: 30·14·14 = 5,880 features.
    #expect(try model.outputShape(for: [2, 3, 32, 32]) == [2, 5])
    #expect(model.parameter(named: "4.weight")?.shape == [100, 5880])
  }
}
