import CNNLayers
import CNNTensor
import Testing

@testable import CNNOptimizers

/// Large parameters are updated in chunks on several threads; each element must come out as
/// it would alone. A 70,000-element parameter repeating a 1,000-element pattern must end every
/// repeat exactly like a 1,000-element parameter holding the pattern once.
@Suite struct ChunkedUpdateTests {
  static func make(_ name: String) -> any Optimizer {
    switch name {
    case "sgd": return SGD(learningRate: 0.1)
    case "momentum": return SGD(learningRate: 0.1, momentum: 0.9)
    case "adam": return Adam(learningRate: 1e-3)
    case "rmsprop": return RMSprop(learningRate: 1e-3)
    case "adagrad": return AdaGrad(learningRate: 0.01)
    default: return Adadelta()
    }
  }

  @Test(arguments: ["sgd", "momentum", "adam", "rmsprop", "adagrad", "adadelta"])
  func largeParametersMatchSmallOnes(name: String) {
    let pattern = (0..<1000).map { Float(($0 * 37) % 101) / 50 - 1 }
    let gradient = (0..<1000).map { Float(($0 * 53) % 97) / 40 - 1.2 }
    let repeats = 70
    let small = Parameter(Tensor(shape: [1000], scalars: pattern))
    let large = Parameter(Tensor(shape: [1000 * repeats], scalars: Array((0..<repeats).map { _ in pattern }.joined())))
    let (smallOptimizer, largeOptimizer) = (Self.make(name), Self.make(name))
    for _ in 0..<3 {
      small.accumulateGradient(Tensor(shape: [1000], scalars: gradient))
      large.accumulateGradient(Tensor(shape: [1000 * repeats], scalars: Array((0..<repeats).map { _ in gradient }.joined())))
      smallOptimizer.step([small])
      largeOptimizer.step([large])
    }
    let expected = small.value.scalars.map(\.bitPattern)
    #expect(expected != pattern.map(\.bitPattern), "\(name) did not move the parameter")
    for r in 0..<repeats {
      #expect(Array(large.value.scalars[(r * 1000)..<((r + 1) * 1000)]).map(\.bitPattern) == expected, "\(name), repeat \(r)")
    }
  }
}
