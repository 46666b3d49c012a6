import Testing

@testable import CNNOptimizers

/// Adadelta against `torch.optim.Adadelta` (numbers from the script in `OptimizerTestSupport.swift`).
@Suite struct AdadeltaTests {
  @Test func defaults() {
    // Step 1 by hand: v = 0.1·0.25 = 0.025, Δ = √1e-6/√(0.025 + 1e-6)·0.5 = 0.0031622…,
    // p = 1 − 0.0031622… = 0.99683778…
    expectClose(
      trajectory(Adadelta()),
      [
        [0.9968377855834876, -1.9968377381511013, 0.4968377262926713],
        [0.9989228726112789, -1.9996112227165534, 0.4940642294154886],
        [0.9977698243328964, -2.0016753176329303, 0.4981679511790825],
      ])
  }

  @Test func otherRhoEpsilonAndWeightDecay() {
    expectClose(
      trajectory(Adadelta(learningRate: 0.5, rho: 0.5, epsilon: 0.01, weightDecay: 0.1)),
      [
        [0.9311752798388314, -1.9297753116823217, 0.4294569822906411],
        [0.9638390945871375, -1.983941587076442, 0.3568235893470914],
        [0.9147146777686642, -2.0228127951190555, 0.4575792646891239],
      ])
  }
}
