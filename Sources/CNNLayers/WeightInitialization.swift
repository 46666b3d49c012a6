import CNNTensor
import RealModule

/// How a layer's weights are drawn. Biases start at zero.
///
/// `fanIn` is the number of inputs to one output unit (`C·KH·KW` for a convolution,
/// the input features for a linear layer) and `fanOut` the outputs fed by one input unit
/// (`K·KH·KW`, or the output features).
public enum WeightInitialization: Sendable, Hashable {
  /// `N(0, σ²)` with a fixed σ: the seeds' `weight_init_std = 0.01`.
  case normal(standardDeviation: Float)
  /// He (Kaiming) normal for ReLU networks: `σ = √(2 / fanIn)`.
  case he
  /// Xavier (Glorot) normal for sigmoid/tanh networks: `σ = √(2 / (fanIn + fanOut))`.
  case xavier
  /// PyTorch's default for `Conv2d` and `Linear`: `U(−1/√fanIn, 1/√fanIn)`
  /// (kaiming-uniform with `a = √5`).
  case pytorchDefault
  /// Every weight and bias 0, nothing drawn: for a network whose weights are about to be
  /// loaded, or that is only measured. Trained from here, the units of a layer stay copies of
  /// each other (every one receives the same gradient): the symmetry that random
  /// initialisation breaks.
  case zeros

  /// Draws a weight tensor of `shape`.
  public func weights(
    _ shape: Shape, fanIn: Int, fanOut: Int, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    switch self {
    case .normal(let standardDeviation):
      return .randomNormal(shape, standardDeviation: standardDeviation, using: &generator)
    case .he:
      return .randomNormal(shape, standardDeviation: Float.sqrt(2 / Float(max(1, fanIn))), using: &generator)
    case .xavier:
      return .randomNormal(shape, standardDeviation: Float.sqrt(2 / Float(max(1, fanIn + fanOut))), using: &generator)
    case .pytorchDefault:
      let bound = 1 / Float.sqrt(Float(max(1, fanIn)))
      return .randomUniform(shape, in: -bound..<bound, using: &generator)
    case .zeros:
      return .zeros(shape)
    }
  }

  /// Draws a bias vector: zeros, except PyTorch's default `U(−1/√fanIn, 1/√fanIn)`.
  public func biases(_ shape: Shape, fanIn: Int, using generator: inout some RandomNumberGenerator) -> Tensor {
    switch self {
    case .pytorchDefault:
      let bound = 1 / Float.sqrt(Float(max(1, fanIn)))
      return .randomUniform(shape, in: -bound..<bound, using: &generator)
    default:
      return .zeros(shape)
    }
  }
}
