import CNNTensor

/// Global average pooling: the mean of each channel over the whole image (Lin, Chen & Yan,
/// 2013, "Network In Network", arXiv:1312.4400), as GoogLeNet and ResNet use before their
/// classifier.
///
/// Shape: input `[N, C, H, W]` → output `[N, C]`, with `y[n, c] = (1/(H·W)) · Σ_{h,w} x[n, c, h, w]`.
/// It equals `AdaptiveAvgPool2D(outputSize: 1)` followed by `Flatten()` (torchvision's
/// `avgpool` and `torch.flatten(x, 1)`), and accepts any image size.
/// Backward: each input receives `dy[n, c] / (H·W)`. No learned parameters.
public final class GlobalAvgPool2D: Layer {
  public init() {}

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    guard input.rank == 4 else {
      throw ShapeError(
        layer: "GlobalAvgPool2D", expected: "[N, C, H, W]", got: input, reason: "expects an image C×H×W, got \(input)")
    }
    guard input[2] > 0 && input[3] > 0 else {
      throw ShapeError(layer: "GlobalAvgPool2D", expected: "[N, C, H, W]", got: input, reason: "needs a non-empty image")
    }
    return [input[0], input[1]]
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let outputShape = trappingOnShapeError { () throws(ShapeError) in try self.outputShape(for: input.shape) }
    let rows = outputShape.scalarCount
    let plane = input.shape[2] * input.shape[3]
    let output = Tensor(
      shape: outputShape,
      writingWith: { y in
        input.withPointer { x in
          for row in 0..<rows {
            var sum: Float = 0
            for i in (row * plane)..<((row + 1) * plane) { sum += x[i] }
            y[row] = sum / Float(plane)
          }
        }
      })
    return (
      output,
      { dOutput in
        dOutput.expectShape(outputShape, "GlobalAvgPool2D pullback")
        guard needsInputGradient else { return .zeros([0]) }
        return Tensor(
          shape: input.shape,
          writingWith: { dx in
            dOutput.withPointer { dy in
              for row in 0..<rows {
                let share = dy[row] / Float(plane)
                for i in (row * plane)..<((row + 1) * plane) { dx[i] = share }
              }
            }
          })
      }
    )
  }
}
