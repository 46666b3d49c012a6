import CNNKernels
import CNNTensor

/// A 2-D convolution over an NCHW batch: `K` filters of `C/G × KH × KW`, plus a bias each.
///
/// Shape: input `[N, C, H, W]` → output `[N, K, OH, OW]`, where
/// `OH = (H + 2P − KH) / S + 1` (floor), and likewise for `OW` (see `ConvGeometry`).
///
/// Parameters: `weight [K, C/G, KH, KW]` and `bias [K]` (PyTorch's layout), so
/// `F·F·C·K + K` learned scalars for square kernels and one group.
/// - Complexity: O(N · K · (C/G) · KH · KW · OH · OW), as one GEMM per image and group.
public final class Conv2D: Layer {
  public let inputChannels: Int
  public let outputChannels: Int
  public let kernelSize: Size2D
  public let stride: Size2D
  public let padding: Padding
  /// Channel groups: input and output channels are split into `groups` independent convolutions.
  public let groups: Int
  /// `[K, C/G, KH, KW]`.
  public let weight: Parameter
  /// `[K]`, or `nil` when the layer has no bias.
  public let bias: Parameter?
  /// The filters as inference calls transform them (Winograd's U for batch-1 calls), kept while
  /// `weight` keeps its version; emptied when training starts.
  public let preparedFilters = PreparedFilters()

  /// Creates a convolution with freshly drawn weights and zero biases
  /// (uniform biases for `.pytorchDefault`).
  public init(
    inputChannels: Int, outputChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
    padding: Padding = .valid, groups: Int = 1, bias: Bool = true,
    initialization: WeightInitialization = .he, using generator: inout some RandomNumberGenerator
  ) {
    precondition(inputChannels > 0 && outputChannels > 0, "Conv2D needs positive channel counts, got \(inputChannels) → \(outputChannels)")
    precondition(kernelSize.height > 0 && kernelSize.width > 0, "Conv2D kernel size must be positive, got \(kernelSize)")
    precondition(stride.height > 0 && stride.width > 0, "Conv2D stride must be positive, got \(stride)")
    precondition(
      groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
      "Conv2D groups (\(groups)) must divide input channels (\(inputChannels)) and output channels (\(outputChannels))")
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    self.groups = groups
    let fanIn = inputChannels / groups * kernelSize.height * kernelSize.width
    let fanOut = outputChannels / groups * kernelSize.height * kernelSize.width
    let shape: Shape = [outputChannels, inputChannels / groups, kernelSize.height, kernelSize.width]
    self.weight = Parameter(initialization.weights(shape, fanIn: fanIn, fanOut: fanOut, using: &generator))
    if bias {
      self.bias = Parameter(initialization.biases([outputChannels], fanIn: fanIn, using: &generator))
    } else {
      self.bias = nil
    }
  }

  /// The parameters `weight`, then `bias` when there is one.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  /// The window geometry for an input of shape `input`.
  /// - Throws: `ShapeError` unless `input` is `[N, C, H, W]` with this layer's `C` and the
  ///   kernel fits inside the padded image.
  public func geometry(for input: Shape) throws(ShapeError) -> ConvGeometry {
    try windowGeometry("Conv2D", input: input, channels: inputChannels, kernel: kernelSize, stride: stride, padding: padding)
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    let g = try geometry(for: input)
    return [g.batch, outputChannels, g.outputHeight, g.outputWidth]
  }

  /// Inference: the training computation without its pullback, with the filters it transforms
  /// kept for the next call while the weights stay the same (`preparedFilters`).
  public func callAsFunction(_ input: Tensor) -> Tensor {
    let g = trappingOnShapeError { () throws(ShapeError) in try geometry(for: input.shape) }
    preparedFilters.update(version: weight.version)
    return Tensor(shape: [g.batch, outputChannels, g.outputHeight, g.outputWidth], writingWith: { out in
      withPointers(input, weight.value, bias?.value) { x, w, b in
        conv2DForward(
          input: x, weight: w, bias: b, output: out, geometry: g, outputChannels: outputChannels, groups: groups,
          prepared: preparedFilters)
      }
    })
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let g = trappingOnShapeError { () throws(ShapeError) in try geometry(for: input.shape) }
    // Training changes the weights every step: what inference prepared would only hold memory.
    preparedFilters.removeAll()
    let output = Tensor(shape: [g.batch, outputChannels, g.outputHeight, g.outputWidth], writingWith: { out in
      withPointers(input, weight.value, bias?.value) { x, w, b in
        conv2DForward(
          input: x, weight: w, bias: b, output: out, geometry: g, outputChannels: outputChannels, groups: groups)
      }
    })
    return (output, { [weight, bias, outputChannels, groups] dOutput in
      dOutput.expectShape(output.shape, "Conv2D pullback")
      // The kernel overwrites every element of dInput (its tests start dInput as NaN), so
      // it starts uninitialized: zeroing it first cost a serial pass over the input.
      var dInput = Tensor(shape: needsInputGradient ? input.shape : [0], unsafeUninitialized: { _ in })
      withPointers(input, weight.value, dOutput) { x, w, dy in
        withGradientPointers(&dInput, weight, bias) { dx, dw, db in
          conv2DBackward(
            input: x, weight: w, dOutput: dy, dInput: needsInputGradient ? dx : nil,
            dWeight: dw, dBias: db, geometry: g, outputChannels: outputChannels, groups: groups)
        }
      }
      return dInput
    })
  }
}
