// The one place where the output size of a sliding window is computed.
// Convolution, pooling, im2col/col2im, `outputShape(for:)` and `cnn summary` all ask it.
//
// Shape letters used throughout CNNKit:
//   N batch, C input channels, K output channels (filters), H/W input height/width,
//   KH/KW kernel height/width, OH/OW output height/width, S stride, P padding.

/// The geometry of a 2-D sliding window (convolution or pooling) over one NCHW batch.
///
/// Shape: input `[N, C, H, W]` → output `[N, K, OH, OW]`, where
/// `OH = (H + PT + PB − KH) / SH + 1` and `OW = (W + PL + PR − KW) / SW + 1` (floor).
/// With symmetric padding `P` this is the seeds' `OH = (H + 2P − FH) / S + 1`.
public struct ConvGeometry: Hashable, Sendable, CustomStringConvertible {
  public var batch: Int
  public var inputChannels: Int
  public var inputHeight: Int
  public var inputWidth: Int
  public var kernelHeight: Int
  public var kernelWidth: Int
  public var strideHeight: Int
  public var strideWidth: Int
  /// Zero rows added above the input.
  public var padTop: Int
  /// Zero rows added below the input.
  public var padBottom: Int
  /// Zero columns added left of the input.
  public var padLeft: Int
  /// Zero columns added right of the input.
  public var padRight: Int

  /// Creates a geometry; sizes are not validated here (see `validationError`).
  public init(
    batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
    kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
    padTop: Int = 0, padBottom: Int = 0, padLeft: Int = 0, padRight: Int = 0
  ) {
    self.batch = batch
    self.inputChannels = inputChannels
    self.inputHeight = inputHeight
    self.inputWidth = inputWidth
    self.kernelHeight = kernelHeight
    self.kernelWidth = kernelWidth
    self.strideHeight = strideHeight
    self.strideWidth = strideWidth
    self.padTop = padTop
    self.padBottom = padBottom
    self.padLeft = padLeft
    self.padRight = padRight
  }

  /// `OH = (H + PT + PB − KH) / SH + 1`, rounded down.
  public var outputHeight: Int {
    Self.outputSize(input: inputHeight, padding: padTop + padBottom, kernel: kernelHeight, stride: strideHeight)
  }

  /// `OW = (W + PL + PR − KW) / SW + 1`, rounded down.
  public var outputWidth: Int {
    Self.outputSize(input: inputWidth, padding: padLeft + padRight, kernel: kernelWidth, stride: strideWidth)
  }

  /// `(input + padding − kernel) / stride + 1`, rounded down (0 when the window does not fit).
  public static func outputSize(input: Int, padding: Int, kernel: Int, stride: Int) -> Int {
    let span = input + padding - kernel
    return span < 0 ? 0 : span / stride + 1
  }

  /// `C·KH·KW`: the length of one unrolled window (one row of the seeds' im2col matrix).
  public var windowSize: Int { inputChannels * kernelHeight * kernelWidth }

  /// `OH·OW`: output positions per image and channel.
  public var outputPlaneSize: Int { outputHeight * outputWidth }

  /// `H·W`: input positions per image and channel.
  public var inputPlaneSize: Int { inputHeight * inputWidth }

  /// Whether the window is 2×2 with stride 2 and no padding: windows that tile the plane (the
  /// pooling kernels' fast case, and the one `conv2DMaxPoolReLUForward` pools with).
  public var isTwoByTwoStrideTwo: Bool {
    kernelHeight == 2 && kernelWidth == 2 && strideHeight == 2 && strideWidth == 2
      && padTop == 0 && padBottom == 0 && padLeft == 0 && padRight == 0
  }

  /// Describes what is wrong with these sizes, or `nil` when they are usable.
  ///
  /// A window larger than the padded input, a zero or negative size, or a padding as large
  /// as the kernel (a window of only zeros) are errors.
  public var validationError: String? {
    if batch < 0 || inputChannels <= 0 || inputHeight <= 0 || inputWidth <= 0 {
      return "input [\(batch), \(inputChannels), \(inputHeight), \(inputWidth)] must have positive C, H and W"
    }
    if kernelHeight <= 0 || kernelWidth <= 0 {
      return "kernel \(kernelHeight)x\(kernelWidth) must be at least 1x1"
    }
    if strideHeight <= 0 || strideWidth <= 0 {
      return "stride \(strideHeight)x\(strideWidth) must be at least 1"
    }
    if min(padTop, padBottom, padLeft, padRight) < 0 {
      return "padding (\(padTop), \(padBottom), \(padLeft), \(padRight)) must not be negative"
    }
    if inputHeight + padTop + padBottom < kernelHeight || inputWidth + padLeft + padRight < kernelWidth {
      return "kernel \(kernelHeight)x\(kernelWidth) does not fit the padded input "
        + "\(inputHeight + padTop + padBottom)x\(inputWidth + padLeft + padRight)"
        + " (H + 2P − KH = \(inputHeight + padTop + padBottom - kernelHeight) < 0)"
    }
    return nil
  }

  public var description: String {
    "[\(batch), \(inputChannels), \(inputHeight), \(inputWidth)] k\(kernelHeight)x\(kernelWidth)"
      + " s\(strideHeight)x\(strideWidth) p(\(padTop),\(padBottom),\(padLeft),\(padRight))"
      + " → [\(outputHeight)x\(outputWidth)]"
  }
}
