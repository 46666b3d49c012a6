import CNNLayers
import CNNTensor

/// Max pooling that rounds its output size up, as PyTorch's `MaxPool2d(ceil_mode=True)`
/// (torchvision's GoogLeNet pools this way).
///
/// Shape: input `[N, C, H, W]` → output `[N, C, OH, OW]` with `OH = ⌈(H + 2P − K)/S⌉ + 1`,
/// less one if the last window would start beyond the input and its top padding (PyTorch's
/// rule); the last window may hang over the edge. It runs as a `MaxPool2D` whose bottom and right padding are widened just enough for
/// `ConvGeometry`'s floor to give `OH`; padded positions never win a max. No learned parameters.
public final class CeilModeMaxPool2D: Layer {
  /// `K`.
  public let kernelSize: Int
  /// `S`.
  public let stride: Int
  /// `P`, on every side.
  public let padding: Int

  /// Creates a ceil-mode max pooling; `stride` defaults to the kernel size.
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
    let stride = stride ?? kernelSize
    precondition(kernelSize > 0 && stride > 0 && padding >= 0, "CeilModeMaxPool2D needs k > 0, s > 0, p ≥ 0")
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
  }

  /// `⌈(size + 2P − K)/S⌉ + 1`, corrected as PyTorch does (`pooling_output_shape`); not
  /// positive when no window fits. The last window may hang over the bottom edge as long as
  /// it starts inside the input or its top padding.
  public func outputSize(for size: Int) -> Int {
    let numerator = size + 2 * padding - kernelSize + stride - 1
    // Division rounding towards −∞, as PyTorch's `div_rtn`.
    var output = (numerator >= 0 ? numerator / stride : (numerator - stride + 1) / stride) + 1
    if output > 0 && (output - 1) * stride >= size + padding { output -= 1 }
    return output
  }

  /// The extra bottom (or right) padding that makes the floor formula give `outputSize(for:)`.
  func extraPadding(for size: Int) -> Int {
    max(0, (outputSize(for: size) - 1) * stride + kernelSize - (size + 2 * padding))
  }

  /// The floor-mode pooling equivalent to this one for `input` (`[N, C, H, W]`).
  public func pool(for input: Shape) -> MaxPool2D {
    precondition(input.rank == 4, "CeilModeMaxPool2D expects an NCHW input [N, C, H, W], got \(input)")
    let (bottom, right) = (extraPadding(for: input[2]), extraPadding(for: input[3]))
    return MaxPool2D(
      kernelSize: Size2D(kernelSize), stride: Size2D(stride),
      padding: .explicit(top: padding, bottom: padding + bottom, left: padding, right: padding + right))
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    func failure(_ reason: String) -> ShapeError {
      ShapeError(layer: "CeilModeMaxPool2D", expected: "[N, C, H, W]", got: input, reason: reason)
    }
    guard input.rank == 4 else { throw failure("expects an image C×H×W, got \(input)") }
    guard outputSize(for: input[2]) > 0, outputSize(for: input[3]) > 0 else {
      throw failure(
        "kernel \(kernelSize)x\(kernelSize) leaves no output from the padded input "
          + "\(input[2] + 2 * padding)x\(input[3] + 2 * padding)")
    }
    return try pool(for: input).outputShape(for: input)
  }

  public func callAsFunction(_ input: Tensor) -> Tensor { pool(for: input.shape)(input) }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    pool(for: input.shape).forward(input, needsInputGradient: needsInputGradient)
  }
}
