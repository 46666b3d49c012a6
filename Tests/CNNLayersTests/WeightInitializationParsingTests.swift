import Testing

@testable import CNNLayers

@Suite struct WeightInitializationParsingTests {
  @Test func spellingsRoundTrip() {
    let all: [WeightInitialization] = [.he, .xavier, .pytorchDefault, .normal(standardDeviation: 0.01), .zeros]
    for initialization in all {
      #expect(WeightInitialization(parsing: initialization.description) == initialization)
    }
    #expect(WeightInitialization(parsing: "Kaiming") == .he)
    #expect(WeightInitialization(parsing: "normal=0.05") == .normal(standardDeviation: 0.05))
  }

  @Test func badSpellingsAreRejected() {
    for text in ["", "normal", "normal=0", "normal=-1", "normal=nan", "normal=inf", "uniform", "he2"] {
      #expect(WeightInitialization(parsing: text) == nil, "\(text)")
    }
  }
}
