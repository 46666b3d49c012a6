import Testing

@testable import CNNOptimizers

/// Adam and AdamW against `torch.optim.Adam`/`AdamW` (numbers from the script in
/// `OptimizerTestSupport.swift`).
@Suite struct AdamTests {
  @Test func defaults() {
    // Step 1 by hand: m̂ = g and v̂ = g², so p ← p − lr·g/(|g| + 1e-8) ≈ p − 0.1·sign(g).
    expectClose(
      trajectory(Adam(learningRate: 0.1)),
      [
        [0.900000002, -1.900000001, 0.4000000005],
        [0.8733662987078463, -1.8910675003605355, 0.30174249291002414],
        [0.8393233849166541, -1.9083989585109238, 0.3022334080516081],
      ])
  }

  @Test func l2WeightDecayOtherBetasAndEpsilon() {
    // Step 1 by hand: g = 0.5 + 0.1 = 0.6, m̂ = 0.6, v̂ = 0.36, p = 1 − 0.1·0.6/(0.6 + 0.1) = 0.9142857…
    expectClose(
      trajectory(Adam(learningRate: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 0.1, weightDecay: 0.1)),
      [
        [0.9142857142857143, -1.9076923076923078, 0.4046511627906977],
        [0.8810860448953615, -1.8861726228831657, 0.312236439786515],
        [0.8407203136070798, -1.8857437827930925, 0.31958076572981364],
      ])
  }

  @Test func decoupledWeightDecay() {
    // Step 1 by hand: p ← p·(1 − 0.1·0.1) − 0.1·sign(g) = [0.99 − 0.1, −1.98 + 0.1, 0.495 − 0.1].
    let expected: [[Double]] = [
      [0.890000002, -1.880000001, 0.3950000005],
      [0.8544662986878463, -1.8522675003505356, 0.2927924929050241],
      [0.8118787219097756, -1.8510762834974184, 0.2903554831175578],
    ]
    expectClose(trajectory(Adam(learningRate: 0.1, weightDecay: 0.1, decoupledWeightDecay: true)), expected)
    expectClose(trajectory(Adam.adamW(learningRate: 0.1, weightDecay: 0.1)), expected)
  }

  @Test func adamWDefaultsAreTorchs() {
    let adamW = Adam.adamW()
    #expect(adamW.decoupledWeightDecay && adamW.weightDecay == 0.01 && adamW.learningRate == 0.001)
    let adam = Adam()
    #expect(!adam.decoupledWeightDecay && adam.weightDecay == 0)
    #expect(adam.beta1 == 0.9 && adam.beta2 == 0.999 && adam.epsilon == 1e-8)
  }
}
