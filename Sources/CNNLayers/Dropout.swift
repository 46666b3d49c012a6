import CNNTensor

/// Inverted dropout: in training each element is zeroed with probability `rate` and the
/// survivors are scaled by `1 / (1 − rate)`, so inference (`layer(x)`) is the identity.
///
/// Shape: any → the same. The masks come from the layer's own seeded `generator`, so a
/// run is reproducible; save and restore `generator` to replay a mask.
public final class Dropout: Layer {
  /// The probability of zeroing an element, in `[0, 1)`.
  public let rate: Float
  /// The source of the masks; advanced by every training forward pass.
  public var generator: SeededGenerator

  /// Creates a dropout layer whose masks are drawn from a generator seeded with `seed`.
  public init(rate: Float, seed: UInt64) {
    precondition(rate >= 0 && rate < 1, "Dropout rate must be in [0, 1), got \(rate)")
    self.rate = rate
    self.generator = SeededGenerator(seed: seed)
  }

  /// Creates a dropout layer seeded from `generator`.
  public convenience init(rate: Float, using generator: inout some RandomNumberGenerator) {
    self.init(rate: rate, seed: generator.next())
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape { input }

  public func callAsFunction(_ input: Tensor) -> Tensor { input }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let scale = 1 / (1 - rate)
    let mask = Tensor(shape: input.shape, writingWith: { m in
      for i in 0..<input.scalarCount { m[i] = generator.nextUniform() < rate ? 0 : scale }
    })
    return (input * mask, { dOutput in dOutput * mask })
  }
}
