import CNNKernels
import CNNTensor

/// A fully connected (affine) layer: `y = x·Wᵀ + b`. The seeds call it Affine; Keras, Dense.
///
/// Shape: input `[N, F]` → output `[N, O]`, with `weight [O, F]` and `bias [O]`
/// (PyTorch's layout), so `F·O + O` learned scalars. Flatten image batches first.
/// Backward: `dx = dy·W`, `dW += dyᵀ·x`, `db += Σ_n dy`.
public final class Linear: Layer {
  public let inputFeatures: Int
  public let outputFeatures: Int
  /// `[O, F]`.
  public let weight: Parameter
  /// `[O]`, or `nil` when the layer has no bias.
  public let bias: Parameter?

  /// Creates a linear layer with freshly drawn weights and zero biases
  /// (uniform biases for `.pytorchDefault`).
  public init(
    inputFeatures: Int, outputFeatures: Int, bias: Bool = true,
    initialization: WeightInitialization = .he, using generator: inout some RandomNumberGenerator
  ) {
    precondition(inputFeatures > 0 && outputFeatures > 0, "Linear needs positive sizes, got \(inputFeatures) → \(outputFeatures)")
    self.inputFeatures = inputFeatures
    self.outputFeatures = outputFeatures
    self.weight = Parameter(
      initialization.weights([outputFeatures, inputFeatures], fanIn: inputFeatures, fanOut: outputFeatures, using: &generator))
    self.bias = bias ? Parameter(initialization.biases([outputFeatures], fanIn: inputFeatures, using: &generator)) : nil
  }

  /// The parameters `weight`, then `bias` when there is one.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    func failure(_ reason: String) -> ShapeError {
      ShapeError(layer: "Linear", expected: "[N, \(inputFeatures)]", got: input, reason: reason)
    }
    guard input.rank == 2 else {
      throw failure("expects a vector of \(inputFeatures) features, got an image (flatten it first)")
    }
    guard input[1] == inputFeatures else { throw failure("expects \(inputFeatures) features, got \(input[1])") }
    return [input[0], outputFeatures]
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let outputShape = trappingOnShapeError { () throws(ShapeError) in try self.outputShape(for: input.shape) }
    let batch = input.shape[0], f = inputFeatures, o = outputFeatures
    let output = Tensor(shape: outputShape, writingWith: { y in
      withPointers(input, weight.value, bias?.value) { x, w, b in
        if let b {
          for n in 0..<batch { (y + n * o).update(from: b, count: o) }
        }
        gemm(transposeB: true, m: batch, n: o, k: f, a: x, lda: f, b: w, ldb: f, beta: b == nil ? 0 : 1, c: y, ldc: o)
      }
    })
    return (output, { [weight, bias] dOutput in
      dOutput.expectShape(outputShape, "Linear pullback")
      withPointers(dOutput, input) { dy, x in
        weight.gradient.withMutablePointer { dw in
          gemm(transposeA: true, m: o, n: f, k: batch, a: dy, lda: o, b: x, ldb: f, beta: 1, c: dw, ldc: f)
        }
        if let bias {
          bias.gradient.withMutablePointer { db in
            for n in 0..<batch {
              for j in 0..<o { db[j] += dy[n * o + j] }
            }
          }
        }
      }
      guard needsInputGradient else { return .zeros([0]) }
      return Tensor(shape: input.shape, writingWith: { dx in
        withPointers(dOutput, weight.value) { dy, w in
          gemm(m: batch, n: f, k: o, a: dy, lda: o, b: w, ldb: f, c: dx, ldc: f)
        }
      })
    })
  }
}
