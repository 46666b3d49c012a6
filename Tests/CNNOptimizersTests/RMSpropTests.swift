import Testing

@testable import CNNOptimizers

/// RMSprop against `torch.optim.RMSprop` (numbers from the script in `OptimizerTestSupport.swift`).
@Suite struct RMSpropTests {
  @Test func defaults() {
    // Step 1 by hand: v = 0.01·g², so p ← p − lr·g/(0.1·|g| + 1e-8) ≈ p − 0.1·sign(g).
    expectClose(
      trajectory(RMSprop(learningRate: 0.01)),
      [
        [0.900000019999996, -1.900000009999999, 0.40000000499999977],
        [0.9449013374421751, -1.960192931711966, 0.33980708087257405],
        [0.9228909217602068, -1.9975963017206564, 0.41688767062727616],
      ])
  }

  @Test func centeredWithMomentumWeightDecayAndEpsilon() {
    // Step 1 by hand: g = 0.5 + 0.1 = 0.6, v = 0.1·0.36 = 0.036, ḡ = 0.06,
    // s = √(0.036 − 0.0036) + 0.1 = 0.28, b = 0.6/0.28 = 2.142857…, p = 1 − 0.0214286 = 0.978571…
    expectClose(
      trajectory(RMSprop(learningRate: 0.01, alpha: 0.9, epsilon: 0.1, weightDecay: 0.1, momentum: 0.9, centered: true)),
      [
        [0.9785714285714285, -1.9739130434782608, 0.47132867132867134],
        [0.9646763159916828, -1.9615607996520052, 0.42639779791563365],
        [0.9442995014516136, -1.9566290965915207, 0.4087797460392091],
      ])
  }

  @Test func momentumAndEpsilon() {
    // Step 1 by hand: s = √(0.01·0.25) + 0.1 = 0.15, b = 0.5/0.15, p = 1 − 0.01·3.333… = 0.966667.
    expectClose(
      trajectory(RMSprop(learningRate: 0.01, epsilon: 0.1, momentum: 0.5)),
      [
        [0.9666666666666667, -1.95, 0.43333333333333335],
        [0.966058824772355, -1.9583927935888295, 0.3570445155794025],
        [0.9577825219185998, -1.98398617519379, 0.3802243382523668],
      ])
  }

  @Test func centered() {
    expectClose(
      trajectory(RMSprop(learningRate: 0.01, centered: true)),
      [
        [0.899496238676095, -1.8994962285750878, 0.39949622352458364],
        [0.9444410903350491, -1.9597003196174003, 0.3387076484522449],
        [0.9223844328686309, -1.9971108976366698, 0.41579328151533845],
      ])
  }
}
