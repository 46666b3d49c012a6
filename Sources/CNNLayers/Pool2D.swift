import CNNKernels
import CNNTensor

/// Max, average or min pooling over windows of an NCHW batch; no learned parameters.
///
/// Shape: input `[N, C, H, W]` → output `[N, C, OH, OW]`, where `OH = (H + 2P − KH) / S + 1`
/// (floor). Padded positions never win a max or min; an average divides by `KH·KW`.
/// Backward: max and min send each output's gradient to the input that won its window;
/// average spreads it evenly over the window.
public class Pool2D: Layer {
  public let mode: PoolingMode
  public let kernelSize: Size2D
  public let stride: Size2D
  public let padding: Padding

  /// Creates a pooling layer; `stride` defaults to the kernel size (non-overlapping windows).
  public init(mode: PoolingMode, kernelSize: Size2D, stride: Size2D? = nil, padding: Padding = .valid) {
    let stride = stride ?? kernelSize
    precondition(kernelSize.height > 0 && kernelSize.width > 0, "Pool2D kernel size must be positive, got \(kernelSize)")
    precondition(stride.height > 0 && stride.width > 0, "Pool2D stride must be positive, got \(stride)")
    self.mode = mode
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
  }

  var layerName: String {
    switch mode {
    case .max: return "MaxPool2D"
    case .average: return "AvgPool2D"
    case .min: return "MinPool2D"
    }
  }

  /// The window geometry for an input of shape `input`.
  /// - Throws: `ShapeError` unless `input` is `[N, C, H, W]` and the window fits inside the
  ///   padded image.
  public func geometry(for input: Shape) throws(ShapeError) -> ConvGeometry {
    try windowGeometry(layerName, input: input, channels: nil, kernel: kernelSize, stride: stride, padding: padding)
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    let g = try geometry(for: input)
    return [g.batch, g.inputChannels, g.outputHeight, g.outputWidth]
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    let g = trappingOnShapeError { () throws(ShapeError) in try geometry(for: input.shape) }
    return Tensor(shape: [g.batch, g.inputChannels, g.outputHeight, g.outputWidth], writingWith: { out in
      input.withPointer { x in pool2DForward(input: x, output: out, geometry: g, mode: mode, argIndex: nil) }
    })
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let g = trappingOnShapeError { () throws(ShapeError) in try geometry(for: input.shape) }
    let outputShape: Shape = [g.batch, g.inputChannels, g.outputHeight, g.outputWidth]
    let mode = mode
    // The kernel records every window's winner (its tests start the indices at −1).
    var winners = mode == .average ? [] : uninitializedIndices(count: outputShape.scalarCount)
    let output = Tensor(shape: outputShape, writingWith: { out in
      input.withPointer { x in
        winners.withUnsafeMutableBufferPointer { indices in
          pool2DForward(input: x, output: out, geometry: g, mode: mode, argIndex: indices.baseAddress)
        }
      }
    })
    return (output, { [winners] dOutput in
      dOutput.expectShape(outputShape, "\(mode.rawValue) pooling pullback")
      return Tensor(shape: input.shape, writingWith: { dx in
        withPointers(dOutput, winners) { dy, indices in
          pool2DBackward(dOutput: dy, dInput: dx, geometry: g, mode: mode, argIndex: indices)
        }
      })
    })
  }
}

/// Max pooling: each output is the largest value in its window.
public final class MaxPool2D: Pool2D {
  public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Padding = .valid) {
    super.init(mode: .max, kernelSize: kernelSize, stride: stride, padding: padding)
  }
}

/// Average pooling: each output is the mean of its window.
public final class AvgPool2D: Pool2D {
  public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Padding = .valid) {
    super.init(mode: .average, kernelSize: kernelSize, stride: stride, padding: padding)
  }
}

/// Min pooling (from the seeds; in no other library): each output is the smallest value in its window.
public final class MinPool2D: Pool2D {
  public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Padding = .valid) {
    super.init(mode: .min, kernelSize: kernelSize, stride: stride, padding: padding)
  }
}

/// `count` pooling winner indices for a kernel to write every one of: zeroing them first was
/// 2 % of a SimpleConvNet step.
func uninitializedIndices(count: Int) -> [Int32] {
  [Int32](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
