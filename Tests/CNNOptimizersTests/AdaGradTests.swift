import Testing

@testable import CNNOptimizers

/// AdaGrad against `torch.optim.Adagrad` (numbers from the script in `OptimizerTestSupport.swift`).
@Suite struct AdaGradTests {
  @Test func defaults() {
    // Step 1 by hand: h = g², so p ← p − lr·g/(|g| + 1e-10) = p − 0.1·sign(g) (to 1e-10).
    expectClose(
      trajectory(AdaGrad(learningRate: 0.1)),
      [
        [0.90000000002, -1.90000000001, 0.400000000005],
        [0.9447213595619958, -1.9600000000052, 0.3400000000074],
        [0.9228995705422061, -1.9971390676378518, 0.4168221279651704],
      ])
  }

  @Test func learningRateDecayWeightDecayInitialAccumulatorAndEpsilon() {
    // Step 1 by hand: g = 0.5 + 0.05·1 = 0.55, h = 0.1 + 0.3025 = 0.4025,
    // p = 1 − 0.1·0.55/(√0.4025 + 0.1) = 0.925111877…
    expectClose(
      trajectory(AdaGrad(learningRate: 0.1, learningRateDecay: 0.1, weightDecay: 0.05, initialAccumulatorValue: 0.1, epsilon: 0.1)),
      [
        [0.9251118771051308, -1.9116148041808803, 0.40579391308910806],
        [0.9492815252864106, -1.9535573393678944, 0.35367615088325444],
        [0.9310498585327466, -1.9762343440502823, 0.41542086897367037],
      ])
  }
}
