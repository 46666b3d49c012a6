import CNNLayers
import CNNTensor
import Testing

@testable import CNNOptimizers

@Suite struct OptimizerKindTests {
  @Test func defaultLearningRates() {
    let rates = Dictionary(uniqueKeysWithValues: OptimizerKind.allCases.map { ($0.rawValue, $0.defaultLearningRate) })
    #expect(
      rates == [
        "sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.001, "adam": 0.001,
        "adamw": 0.001, "adadelta": 1.0,
      ])
    for kind in OptimizerKind.allCases {
      #expect(kind.make(learningRate: nil).learningRate == kind.defaultLearningRate)
      #expect(kind.make(learningRate: 0.25).learningRate == 0.25)
    }
  }

  @Test func kindsAreConfigurationsOfTheGeneralOptimizers() throws {
    let momentum = try #require(OptimizerKind.momentum.make(learningRate: nil) as? SGD)
    #expect(momentum.momentum == 0.9 && !momentum.nesterov)
    let nesterov = try #require(OptimizerKind.nesterov.make(learningRate: nil) as? SGD)
    #expect(nesterov.momentum == 0.9 && nesterov.nesterov)
    let sgd = try #require(OptimizerKind.sgd.make(learningRate: nil) as? SGD)
    #expect(sgd.momentum == 0)
    let adamW = try #require(OptimizerKind.adamw.make(learningRate: nil) as? Adam)
    #expect(adamW.decoupledWeightDecay && adamW.weightDecay == 0.01)
    #expect(OptimizerKind.adagrad.make(learningRate: nil) is AdaGrad)
    #expect(OptimizerKind.rmsprop.make(learningRate: nil) is RMSprop)
    #expect(OptimizerKind.adam.make(learningRate: nil) is Adam)
    #expect(OptimizerKind.adadelta.make(learningRate: nil) is Adadelta)
  }

  /// Sanity: every kind minimises `½·Σ cᵢ(pᵢ − tᵢ)²` from 0 to below 1e-3 of the starting loss
  /// (learning rates where the defaults are too small for 2000 steps).
  @Test(arguments: OptimizerKind.allCases)
  func minimisesAQuadratic(_ kind: OptimizerKind) {
    let c: [Float] = [1, 2, 0.5, 4], target: [Float] = [1, -2, 3, 0.5]
    let learningRates: [OptimizerKind: Float] = [.adagrad: 0.5, .rmsprop: 0.01, .adam: 0.05, .adamw: 0.05]
    let optimizer = kind.make(learningRate: learningRates[kind])
    let parameter = Parameter(.zeros([4]))
    func loss() -> Float { (0..<4).map { 0.5 * c[$0] * (parameter.value[$0] - target[$0]) * (parameter.value[$0] - target[$0]) }.reduce(0, +) }
    let initial = loss()
    for _ in 0..<2000 {
      parameter.gradient = Tensor(shape: [4], scalars: (0..<4).map { c[$0] * (parameter.value[$0] - target[$0]) })
      optimizer.step([parameter])
    }
    #expect(loss() < 1e-3 * initial, "\(kind): loss \(loss()) from \(initial)")
  }
}
