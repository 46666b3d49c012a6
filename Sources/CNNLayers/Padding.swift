import CNNKernels
import CNNTensor

/// Zero padding around the input of a convolution or pooling window.
public enum Padding: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
  /// No padding: the window stays inside the input (`OH = (H − KH) / S + 1`).
  case valid
  /// Enough padding that `OH = ⌈H / S⌉` (so `OH = H` at stride 1), split evenly with any
  /// extra row or column at the bottom/right, as in Keras and TensorFlow.
  case same
  /// Explicit zero rows and columns on each side.
  case explicit(top: Int, bottom: Int, left: Int, right: Int)

  /// The same padding `p` on all four sides: the seeds' `P`.
  public static func symmetric(_ p: Int) -> Padding { .explicit(top: p, bottom: p, left: p, right: p) }

  public init(integerLiteral value: Int) { self = .symmetric(value) }

  /// The padding `(top, bottom, left, right)` for an input of `height × width`.
  public func resolved(height: Int, width: Int, kernel: Size2D, stride: Size2D)
    -> (top: Int, bottom: Int, left: Int, right: Int)
  {
    switch self {
    case .valid:
      return (0, 0, 0, 0)
    case .explicit(let top, let bottom, let left, let right):
      return (top, bottom, left, right)
    case .same:
      func split(_ size: Int, _ k: Int, _ s: Int) -> (Int, Int) {
        let output = (size + s - 1) / s
        let total = max(0, (output - 1) * s + k - size)
        return (total / 2, total - total / 2)
      }
      let (top, bottom) = split(height, kernel.height, stride.height)
      let (left, right) = split(width, kernel.width, stride.width)
      return (top, bottom, left, right)
    }
  }

  public var description: String {
    switch self {
    case .valid: return "valid"
    case .same: return "same"
    case .explicit(let t, let b, let l, let r):
      return t == b && l == r && t == l ? "\(t)" : "(\(t), \(b), \(l), \(r))"
    }
  }
}

/// The geometry of a window of `kernel`/`stride`/`padding` sliding over an NCHW `input`.
/// - Throws: `ShapeError` (naming `layer`) when `input` is not `[N, channels, H, W]` or the
///   window does not fit inside the padded image.
func windowGeometry(
  _ layer: String, input: Shape, channels: Int?, kernel: Size2D, stride: Size2D, padding: Padding
) throws(ShapeError) -> ConvGeometry {
  let expected = "[N, \(channels.map(String.init) ?? "C"), H, W]"
  func failure(_ reason: String) -> ShapeError {
    ShapeError(layer: layer, expected: expected, got: input, reason: reason)
  }
  guard input.rank == 4 else {
    throw failure(
      "expects an image C×H×W, got a vector of \(input.dimensions.dropFirst().map(String.init).joined(separator: "×"))")
  }
  if let channels, input[1] != channels {
    throw failure("expects \(channels) channels, got \(input[1])")
  }
  let pad = padding.resolved(height: input[2], width: input[3], kernel: kernel, stride: stride)
  let geometry = ConvGeometry(
    batch: input[0], inputChannels: input[1], inputHeight: input[2], inputWidth: input[3],
    kernelHeight: kernel.height, kernelWidth: kernel.width,
    strideHeight: stride.height, strideWidth: stride.width,
    padTop: pad.top, padBottom: pad.bottom, padLeft: pad.left, padRight: pad.right)
  if let problem = geometry.validationError { throw failure(problem) }
  if geometry.outputHeight <= 0 || geometry.outputWidth <= 0 {
    throw failure("the output would be \(geometry.outputHeight)×\(geometry.outputWidth)")
  }
  return geometry
}
