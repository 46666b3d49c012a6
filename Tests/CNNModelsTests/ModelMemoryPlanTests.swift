import CNNKernels
import CNNLayers
import CNNTensor
import Testing

@testable import CNNModels

/// `ModelName.checkedParameterCount`: the parameters of a network computed without building
/// it at the requested size, and refused when they exceed the memory budget.
@Suite struct ModelMemoryPlanTests {
  @Test(arguments: [
    (ModelName.lenet5, Shape([1, 64, 48]), 20), (.simpleConvNet, Shape([3, 40, 40]), 7),
    (.cifarCNN, Shape([3, 32, 32]), 10), (.resNet18, Shape([3, 64, 64]), 5), (.alexNet, Shape([3, 224, 224]), 1000),
  ])
  func theCountMatchesTheBuiltNetwork(model: ModelName, shape: Shape, classes: Int) throws {
    var generator = SeededGenerator(seed: 1)
    let built = model.make(inputShape: shape, classCount: classes, using: &generator)
    #expect(try model.checkedParameterCount(inputShape: shape, classCount: classes, source: "a test") == built.parameterCount)
  }

  @Test func anInputThatWouldTakeTerabytesIsRefusedBeforeBuilding() {
    let error = #expect(throws: ModelSummaryError.self) {
      try ModelName.lenet5.checkedParameterCount(inputShape: [1, 100_000, 100_000], classCount: 10, source: "--input")
    }
    #expect(error?.budget != nil, "\(String(describing: error))")
    #expect(error?.description.contains("--input") == true && error?.description.contains("TB") == true)
  }

  @Test func classCountsThatOverflowAreRefused() {
    for (model, classes) in [(ModelName.lenet5, 1 << 62), (.resNet152, 1_000_000_000_000)] {
      let error = #expect(throws: ModelSummaryError.self) {
        try model.checkedParameterCount(inputShape: model.defaultInputShape, classCount: classes, source: "--classes")
      }
      #expect(error?.budget != nil, "\(model) \(classes)")
    }
  }

  @Test func theSummaryRefusesWhatItCannotBuild() {
    var generator = SeededGenerator(seed: 0)
    let error = #expect(throws: ModelSummaryError.self) {
      try ModelSummary(model: .lenet5, inputShape: [1, 8192, 8192], using: &generator)
    }
    #expect(error?.budget != nil)
  }
}
