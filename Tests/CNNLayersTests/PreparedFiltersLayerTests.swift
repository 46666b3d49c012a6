import CNNTensor
import Testing

@testable import CNNLayers

/// A `Conv2D` layer's inference keeps the filters it transforms (`preparedFilters`) only while
/// its weight keeps its version: every change to the weight, in place or by assignment, is
/// seen by the next call.
@Suite struct PreparedFiltersLayerTests {
  /// One 24×24 image of 20 channels through 3×3 filters with padding 1: few enough tiles that
  /// only prepared filters run it as Winograd.
  func layerAndInput() -> (Conv2D, Tensor) {
    var g = SeededGenerator(seed: 7)
    let conv = Conv2D(inputChannels: 20, outputChannels: 26, kernelSize: 3, padding: 1, using: &g)
    return (conv, .randomNormal([1, 20, 24, 24], using: &g))
  }

  /// The largest difference between `a` and `b`, relative to `b`'s largest magnitude.
  func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = b.scalars.map(\.magnitude).max() ?? 1
    return zip(a.scalars, b.scalars).map { ($0 - $1).magnitude }.max()! / scale
  }

  /// The training computation (no prepared filters) with `conv`'s weights, in another layer, so
  /// that `conv`'s prepared filters stay as they are.
  func reference(_ conv: Conv2D, _ x: Tensor) -> Tensor {
    var g = SeededGenerator(seed: 8)
    let copy = Conv2D(inputChannels: 20, outputChannels: 26, kernelSize: 3, padding: 1, using: &g)
    copy.weight.value = conv.weight.value
    copy.bias!.value = conv.bias!.value
    return copy.forward(x).output
  }

  @Test func versionCountsEveryChange() {
    let (conv, _) = layerAndInput()
    let start = conv.weight.version
    conv.weight.value.withUnsafeMutableBufferPointer { $0[0] += 1 }
    #expect(conv.weight.version == start + 1)
    conv.weight.value = .zeros(conv.weight.shape)
    #expect(conv.weight.version == start + 2)
    _ = conv.weight.value.scalars
    #expect(conv.weight.version == start + 2)
  }

  @Test func inferenceSeesWeightsChangedInPlace() {
    let (conv, x) = layerAndInput()
    let before = conv(x)
    #expect(conv.preparedFilters.floatCount > 0)
    #expect(relativeDifference(before, reference(conv, x)) < 2e-5)

    // As an optimizer's step does: in place, through `withUnsafeMutableBufferPointer`.
    conv.weight.value.withUnsafeMutableBufferPointer { w in
      for i in w.indices { w[i] = w[i] * -0.5 + 0.01 }
    }
    let after = conv(x)
    #expect(relativeDifference(after, before) > 0.1)
    #expect(conv.preparedFilters.floatCount > 0)
    #expect(relativeDifference(after, reference(conv, x)) < 2e-5)
  }

  @Test func trainingDropsThePreparedFilters() {
    let (conv, x) = layerAndInput()
    _ = conv(x)
    #expect(conv.preparedFilters.floatCount > 0)
    _ = conv.forward(x)
    #expect(conv.preparedFilters.floatCount == 0)
  }
}
