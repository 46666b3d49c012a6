import CNNTensor

/// The numerical gradient of a scalar function by central differences (the seeds'
/// `numerical_gradient`): `∂f/∂x_i ≈ (f(x + εe_i) − f(x − εe_i)) / 2ε`.
///
/// The default ε = 1e-3 suits Float32 layers (see `checkGradients`).
///
/// - Complexity: `2 · x.scalarCount` evaluations of `f`.
public func numericalGradient(of f: (Tensor) -> Double, at x: Tensor, epsilon: Float = 1e-3) -> Tensor {
  var probe = x
  var result = [Float](repeating: 0, count: x.scalarCount)
  for i in 0..<x.scalarCount {
    let original = x.scalars[i]
    probe[offset: i] = original + epsilon
    let plus = f(probe)
    probe[offset: i] = original - epsilon
    let minus = f(probe)
    probe[offset: i] = original
    result[i] = Float((plus - minus) / (2 * Double(epsilon)))
  }
  return Tensor(shape: x.shape, scalars: result)
}

/// How far a layer's pullback is from central differences, per tensor.
public struct GradientCheckResult: CustomStringConvertible, Sendable {
  /// `max |analytic − numeric| / max |numeric|` for `∂L/∂input`.
  public var inputError: Float
  /// The same for each parameter, by structural name.
  public var parameterErrors: [(name: String, error: Float)]

  /// The worst of all errors.
  public var maxError: Float { parameterErrors.map(\.error).reduce(inputError, max) }

  public var description: String {
    (["input: \(inputError)"] + parameterErrors.map { "\($0.name): \($0.error)" }).joined(separator: ", ")
  }
}

/// Compares `layer`'s pullback with numerical gradients at `input`.
///
/// The scalar checked is `L = Σ r ⊙ layer.forward(x)` for a fixed random `r`, so
/// `∂L/∂output = r`. Each error is `max |analytic − numeric| / max(|numeric|)`.
///
/// The default ε = 1e-3 balances two errors. A larger ε lets a probe cross a ReLU's or a
/// max-pooling's kink in a hidden layer: at ε = 1e-2 correct conv → ReLU → conv stacks and
/// residual blocks report 0.07–0.29, a false alarm. A smaller one drowns the difference in
/// Float32 rounding (about 6e-8 of each output, divided by 2ε). At 1e-3 correct layers,
/// smooth or piecewise linear, come to about 1e-4–1e-3, so a tolerance of 1e-2 separates
/// them from wrong pullbacks (errors of order 1).
///
/// - Parameters:
///   - prepare: Called before every forward pass, e.g. to rewind a dropout layer's generator
///     so every pass draws the same mask.
public func checkGradients(
  of layer: any Layer, input: Tensor, epsilon: Float = 1e-3,
  using generator: inout some RandomNumberGenerator, prepare: () -> Void = {}
) -> GradientCheckResult {
  let outputShape = trappingOnShapeError { () throws(ShapeError) in try layer.outputShape(for: input.shape) }
  let projection = Tensor.randomNormal(outputShape, using: &generator)
  func loss(_ x: Tensor) -> Double { projectedLoss(of: layer, at: x, projection: projection, prepare: prepare) }
  layer.zeroGradients()
  prepare()
  let (_, pullback) = layer.forward(input, needsInputGradient: true)
  let dInput = pullback(projection)
  let numericInput = numericalGradient(of: loss, at: input, epsilon: epsilon)
  var result = GradientCheckResult(inputError: relativeError(dInput, numericInput), parameterErrors: [])
  for (name, parameter) in layer.namedParameters {
    let analytic = parameter.gradient
    let original = parameter.value
    let numeric = numericalGradient(
      of: { value in
        parameter.value = value
        return loss(input)
      }, at: original, epsilon: epsilon)
    parameter.value = original
    result.parameterErrors.append((name, relativeError(analytic, numeric)))
  }
  layer.zeroGradients()
  return result
}

/// `max |a − b| / max |b|` (or the plain difference when `b` is all zeros).
func relativeError(_ analytic: Tensor, _ numeric: Tensor) -> Float {
  precondition(analytic.shape == numeric.shape, "gradient \(analytic.shape) vs numeric \(numeric.shape)")
  let scale = numeric.scalars.reduce(0) { max($0, abs($1)) }
  let difference = analytic.maxAbsoluteDifference(to: numeric)
  return scale > 0 ? difference / scale : difference
}

/// The scalar the gradient checks differentiate: `L(x) = Σ r ⊙ layer(x)` (training mode) for
/// a fixed random `projection` r, summed in `Double`. `prepare` runs first (it puts back the
/// dropout generators, so every evaluation sees the same masks).
func projectedLoss(of layer: any Layer, at x: Tensor, projection: Tensor, prepare: () -> Void) -> Double {
  prepare()
  let y = layer.forward(x, needsInputGradient: false).output
  precondition(
    y.shape == projection.shape, "\(type(of: layer)).outputShape(for:) says \(projection.shape) but forward gives \(y.shape)")
  var sum: Double = 0
  for i in 0..<y.scalarCount { sum += Double(y.scalars[i]) * Double(projection.scalars[i]) }
  return sum
}
