/// Random tensors, drawn from an injected generator.
extension Tensor {
  /// Elements drawn from `N(mean, standardDeviation²)`.
  public static func randomNormal(
    _ shape: Shape, mean: Float = 0, standardDeviation: Float = 1,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    Tensor(shape: shape, unsafeUninitialized: { out in
      for i in out.indices { out[i] = mean + standardDeviation * generator.nextNormal() }
    })
  }

  /// Elements drawn uniformly from `[lowerBound, upperBound)`.
  public static func randomUniform(
    _ shape: Shape, in range: Range<Float> = 0..<1, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    Tensor(shape: shape, unsafeUninitialized: { out in
      let width = range.upperBound - range.lowerBound
      for i in out.indices { out[i] = range.lowerBound + width * generator.nextUniform() }
    })
  }
}
