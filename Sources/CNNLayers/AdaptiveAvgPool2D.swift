import CNNTensor

/// Average pooling to a fixed output size, whatever the input size, as PyTorch's
/// `AdaptiveAvgPool2d` (torchvision's AlexNet and VGG end their features with it, so they
/// accept any image large enough for their convolutions).
///
/// Shape: input `[N, C, H, W]` → output `[N, C, OH, OW]`. Output row `i` averages the input
/// rows `⌊i·H/OH⌋ ..< ⌈(i+1)·H/OH⌉` (PyTorch's start/end rule), and likewise for columns, so
/// windows may overlap and differ in size by one; when `H < OH` rows repeat. When `OH`
/// divides `H` this is `AvgPool2D(kernelSize: H/OH)`.
/// Backward: each output's gradient is spread evenly over its window. No learned parameters.
public final class AdaptiveAvgPool2D: Layer {
  /// `OH × OW`.
  public let outputSize: Size2D

  /// Creates a pooling to `outputSize` (an integer literal means a square).
  public init(outputSize: Size2D) {
    precondition(
      outputSize.height > 0 && outputSize.width > 0, "AdaptiveAvgPool2D output size must be positive, got \(outputSize)"
    )
    self.outputSize = outputSize
  }

  /// The input rows (or columns) `start ..< end` averaged into output `index` of `outputCount`
  /// from `inputCount`: `⌊index·in/out⌋ ..< ⌈(index+1)·in/out⌉`.
  public static func window(_ index: Int, outputCount: Int, inputCount: Int) -> Range<Int> {
    let start = index * inputCount / outputCount
    let end = ((index + 1) * inputCount + outputCount - 1) / outputCount
    return start..<end
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    guard input.rank == 4 else {
      throw ShapeError(
        layer: "AdaptiveAvgPool2D", expected: "[N, C, H, W]", got: input, reason: "expects an image C×H×W, got \(input)")
    }
    guard input[2] > 0 && input[3] > 0 else {
      throw ShapeError(layer: "AdaptiveAvgPool2D", expected: "[N, C, H, W]", got: input, reason: "needs a non-empty image")
    }
    return [input[0], input[1], outputSize.height, outputSize.width]
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let outputShape = trappingOnShapeError { () throws(ShapeError) in try self.outputShape(for: input.shape) }
    let planes = input.shape[0] * input.shape[1]
    let (height, width) = (input.shape[2], input.shape[3])
    let (outputHeight, outputWidth) = (outputSize.height, outputSize.width)
    let rows = (0..<outputHeight).map { Self.window($0, outputCount: outputHeight, inputCount: height) }
    let columns = (0..<outputWidth).map { Self.window($0, outputCount: outputWidth, inputCount: width) }
    let output = Tensor(
      shape: outputShape,
      writingWith: { y in
        input.withPointer { x in
          for p in 0..<planes {
            let source = x + p * height * width
            for (i, rowRange) in rows.enumerated() {
              for (j, columnRange) in columns.enumerated() {
                var sum: Float = 0
                for h in rowRange {
                  for w in columnRange { sum += source[h * width + w] }
                }
                y[(p * outputHeight + i) * outputWidth + j] = sum / Float(rowRange.count * columnRange.count)
              }
            }
          }
        }
      })
    return (
      output,
      { dOutput in
        dOutput.expectShape(outputShape, "AdaptiveAvgPool2D pullback")
        guard needsInputGradient else { return .zeros([0]) }
        var dInput = Tensor.zeros(input.shape)
        dInput.withMutablePointer { dx in
          dOutput.withPointer { dy in
            for p in 0..<planes {
              let target = dx + p * height * width
              for (i, rowRange) in rows.enumerated() {
                for (j, columnRange) in columns.enumerated() {
                  let share = dy[(p * outputHeight + i) * outputWidth + j] / Float(rowRange.count * columnRange.count)
                  for h in rowRange {
                    for w in columnRange { target[h * width + w] += share }
                  }
                }
              }
            }
          }
        }
        return dInput
      }
    )
  }
}
