import CNNLayers
import CNNTensor
import Testing

@testable import CNNOptimizers

/// SGD against `torch.optim.SGD` (numbers from the script in `OptimizerTestSupport.swift`).
@Suite struct SGDTests {
  @Test func plain() {
    // By hand: p ← p − 0.1·g, so step 1 is [1 − 0.05, −2 + 0.1, 0.5 − 0.2] = [0.95, −1.9, 0.3].
    expectClose(
      trajectory(SGD(learningRate: 0.1)),
      [
        [0.95, -1.9, 0.3],
        [0.975, -1.9749999999999999, 0.14999999999999997],
        [0.9625, -2.025, 0.44999999999999996],
      ])
  }

  @Test func momentumWithDampeningAndWeightDecay() {
    // Step 1 by hand: g = 0.5 + 0.01·1 = 0.51, v = g (no dampening on the first step),
    // p = 1 − 0.1·0.51 = 0.949. Step 2: g = −0.25 + 0.01·0.949 = −0.24051,
    // v = 0.9·0.51 + 0.5·(−0.24051) = 0.338745, p = 0.949 − 0.0338745 = 0.9151255.
    expectClose(
      trajectory(SGD(learningRate: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.01)),
      [
        [0.949, -1.898, 0.2995],
        [0.9151254999999999, -1.8427509999999998, 0.04390024999999996],
        [0.8779308872499999, -1.8171055244999998, -0.03616147512500005],
      ])
  }

  @Test func nesterov() {
    // Step 1 by hand: v = g = 0.5, d = g + 0.9·v = 0.95, p = 1 − 0.095 = 0.905.
    expectClose(
      trajectory(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)),
      [
        [0.905, -1.81, 0.12],
        [0.912, -1.8715000000000002, -0.327],
        [0.87205, -1.9543500000000003, -0.02429999999999998],
      ])
  }

  /// The book's Momentum (`v ← μ·v − lr·g; p ← p + v`) gives the same parameters at a
  /// constant learning rate; re-derived here in Double.
  @Test func matchesTheBooksMomentumAtConstantLearningRate() {
    let lr = 0.01, μ = 0.9
    var p = startValue.map(Double.init), v = [0.0, 0.0, 0.0]
    var expected: [[Double]] = []
    for g in stepGradients {
      for i in 0..<3 {
        v[i] = μ * v[i] - lr * Double(g[i])
        p[i] += v[i]
      }
      expected.append(p)
    }
    expectClose(trajectory(SGD(learningRate: 0.01, momentum: 0.9)), expected)
  }

  @Test func learningRateCanChangeBetweenSteps() {
    let optimizer = SGD(learningRate: 0.1)
    let parameter = Parameter(Tensor(shape: [1], scalars: [1]))
    parameter.gradient = Tensor(shape: [1], scalars: [1])
    optimizer.step([parameter])
    optimizer.learningRate = 0.5
    parameter.gradient = Tensor(shape: [1], scalars: [1])
    optimizer.step([parameter])
    #expect(parameter.value.scalars == [Float(1) - 0.1 - 0.5])
  }
}
