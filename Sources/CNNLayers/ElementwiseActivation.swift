import RealModule
import CNNKernels
import CNNTensor

/// Shared machinery of the element-wise activations: any shape in, the same shape out.
/// Each activation supplies its forward kernel and a backward kernel that reads either the
/// input (ReLU) or the output (sigmoid, tanh).
protocol ElementwiseActivation: Layer {
  static func activate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)
  /// `saved` is the input or the output, as `backwardUsesOutput` says.
  static func differentiate(
    saved: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, count: Int)
  /// Whether the backward kernel reads the output (otherwise the input).
  static var backwardUsesOutput: Bool { get }
}

extension ElementwiseActivation {
  public func outputShape(for input: Shape) throws(ShapeError) -> Shape { input }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    Tensor(shape: input.shape, writingWith: { y in
      input.withPointer { x in Self.activate(x, y, count: input.scalarCount) }
    })
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let output = self(input)
    let saved = Self.backwardUsesOutput ? output : input
    return (output, { dOutput in
      dOutput.expectShape(saved.shape, "\(Self.self) pullback")
      return Tensor(shape: saved.shape, writingWith: { dx in
        withPointers(saved, dOutput) { s, dy in
          Self.differentiate(saved: s, dOutput: dy, dInput: dx, count: saved.scalarCount)
        }
      })
    })
  }
}

/// `y = max(0, x)`. Shape: any → the same.
public final class ReLU: ElementwiseActivation {
  public init() {}
  static func activate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    reluForward(x, y, count: count)
  }
  static func differentiate(
    saved: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, count: Int
  ) {
    reluBackward(input: saved, dOutput: dOutput, dInput: dInput, count: count)
  }
  static let backwardUsesOutput = false
}

/// `y = 1 / (1 + e^(−x))`, with `dy/dx = y(1 − y)`. Shape: any → the same.
public final class Sigmoid: ElementwiseActivation {
  public init() {}
  static func activate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    sigmoidForward(x, y, count: count)
  }
  static func differentiate(
    saved: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, count: Int
  ) {
    sigmoidBackward(output: saved, dOutput: dOutput, dInput: dInput, count: count)
  }
  static let backwardUsesOutput = true
}

/// `y = tanh(x)`, with `dy/dx = 1 − y²`. Shape: any → the same.
public final class Tanh: ElementwiseActivation {
  public init() {}
  static func activate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    tanhForward(x, y, count: count)
  }
  static func differentiate(
    saved: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, count: Int
  ) {
    tanhBackward(output: saved, dOutput: dOutput, dInput: dInput, count: count)
  }
  static let backwardUsesOutput = true
}

/// LeCun's scaled tanh, `y = 1.7159 · tanh(2x/3)` (LeCun et al. 1998, appendix A), with
/// `dy/dx = (2/3) · (1.7159 − y²/1.7159)`. Its slope is about 1 at 0 and `f(±1) = ±1`, so
/// targets of ±1 (LeNet-5's RBF codes) lie inside its range instead of at its asymptotes.
/// Shape: any → the same.
public final class ScaledTanh: ElementwiseActivation {
  /// The amplitude A = 1.7159.
  public static let amplitude: Float = 1.7159
  /// The input scale S = 2/3.
  public static let slope: Float = 2.0 / 3.0

  public init() {}
  static func activate(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = amplitude * Float.tanh(slope * x[i]) }
  }
  static func differentiate(
    saved: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, count: Int
  ) {
    for i in 0..<count {
      let y = saved[i]
      dInput[i] = dOutput[i] * slope * (amplitude - y * y / amplitude)
    }
  }
  static let backwardUsesOutput = true
}
