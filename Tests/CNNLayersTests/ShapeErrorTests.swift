import CNNTensor
import Testing

@testable import CNNLayers

/// `outputShape(for:)` throws one `ShapeError` naming the layer, the shape it takes and the
/// shape it got; containers pass their layers' errors on.
@Suite struct ShapeErrorTests {
  @Test func layersNameThemselvesAndBothShapes() {
    var g = SeededGenerator(seed: 1)
    let conv = Conv2D(inputChannels: 1, outputChannels: 6, kernelSize: 5, using: &g)
    #expect(throws: ShapeError(layer: "Conv2D", expected: "[N, 1, H, W]", got: [8, 3, 28, 28], reason: "expects 1 channels, got 3")) {
      try conv.outputShape(for: [8, 3, 28, 28])
    }
    let error = ShapeError(layer: "Conv2D", expected: "[N, 1, H, W]", got: [8, 3, 28, 28], reason: "expects 1 channels, got 3")
    #expect(error.description == "Conv2D: expects 1 channels, got 3 (expected [N, 1, H, W], got [8, 3, 28, 28])")

    let linear = Linear(inputFeatures: 400, outputFeatures: 10, using: &g)
    #expect(
      throws: ShapeError(
        layer: "Linear", expected: "[N, 400]", got: [2, 16, 5, 5],
        reason: "expects a vector of 400 features, got an image (flatten it first)")
    ) { try linear.outputShape(for: [2, 16, 5, 5]) }
    #expect(throws: ShapeError.self) { try MaxPool2D(kernelSize: 3).outputShape(for: [1, 2, 2, 2]) }
    #expect(throws: ShapeError.self) { try BatchNorm2D(featureCount: 4).outputShape(for: [1, 3, 2, 2]) }
    #expect(throws: ShapeError.self) { try GlobalAvgPool2D().outputShape(for: [1, 3]) }
    #expect(throws: ShapeError.self) { try LocalResponseNorm(size: 3).outputShape(for: [1, 3]) }
  }

  @Test func containersPassTheLayersErrorOn() throws {
    var g = SeededGenerator(seed: 2)
    let network = Sequential {
      Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, using: &g)
      ReLU()
      MaxPool2D(kernelSize: 2)
      Flatten()
      Linear(inputFeatures: 8, outputFeatures: 3, using: &g)
    }
    #expect(try network.outputShape(for: [4, 1, 6, 6]) == [4, 3])
    let error = try #require(throws: ShapeError.self) { try network.outputShape(for: [4, 1, 8, 8]) }
    #expect(error.layer == "Linear" && error.got == [4, 18])

    let residual = Residual { Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 1, using: &g) }
    let mismatch = try #require(throws: ShapeError.self) { try residual.outputShape(for: [1, 2, 4, 4]) }
    #expect(mismatch.layer == "Residual" && mismatch.reason.contains("add a projection"))

    let concatenate = Concatenate {
      Conv2D(inputChannels: 2, outputChannels: 1, kernelSize: 1, using: &g)
      Conv2D(inputChannels: 2, outputChannels: 1, kernelSize: 3, using: &g)
    }
    #expect(throws: ShapeError.self) { try concatenate.outputShape(for: [1, 2, 4, 4]) }
  }
}
