import CNNKernels
import CNNTensor
import RealModule

/// Batch normalization over the channels of an NCHW batch (Ioffe & Szegedy, 2015,
/// "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate
/// Shift", arXiv:1502.03167), with PyTorch's `BatchNorm2d` conventions.
///
/// Shape: input `[N, C, H, W]` → output `[N, C, H, W]`. Each channel `c` is normalized over
/// its `M = N·H·W` values and then scaled and shifted:
/// `y = γ_c · (x − μ_c) / √(σ²_c + ε) + β_c`.
///
/// - Training (`forward`): `μ` and `σ²` are the batch mean and the biased batch variance
///   (divided by `M`). The running statistics move towards them with momentum `m = 0.1`:
///   `running_mean ← (1 − m)·running_mean + m·μ` and
///   `running_var ← (1 − m)·running_var + m·σ²·M/(M − 1)` (the unbiased variance, as PyTorch
///   does), and `num_batches_tracked` counts the updates. Training needs `M > 1`.
/// - Inference (`layer(x)`): the running statistics take the place of `μ` and `σ²`.
///
/// Backward (training), with `x̂ = (x − μ)/√(σ² + ε)`:
/// `∂L/∂β = Σ dy`, `∂L/∂γ = Σ dy·x̂`, and
/// `∂L/∂x = γ / (M·√(σ² + ε)) · (M·dy − Σ dy − x̂·Σ dy·x̂)` (sums over the channel's `M` values).
///
/// Parameters: `weight` (γ, ones) and `bias` (β, zeros), `[C]` each, so `2·C` learned scalars.
/// Buffers, named as in PyTorch's `state_dict`: `running_mean` (zeros), `running_var` (ones)
/// and `num_batches_tracked` (a scalar, shape `[]`, stored as a `Float`).
public final class BatchNorm2D: Layer {
  /// `C`, the channels normalized.
  public let featureCount: Int
  /// `ε`, added to the variance before the square root.
  public let epsilon: Float
  /// `m`, the weight of the newest batch in the running statistics.
  public let momentum: Float
  /// `γ`, `[C]`.
  public let weight: Parameter
  /// `β`, `[C]`.
  public let bias: Parameter
  /// The running mean, `[C]`; PyTorch's `running_mean`.
  public let runningMean: Buffer
  /// The running unbiased variance, `[C]`; PyTorch's `running_var`.
  public let runningVariance: Buffer
  /// How many training batches have updated the running statistics; PyTorch's
  /// `num_batches_tracked`, shape `[]`.
  public let batchesTracked: Buffer
  /// Sums the statistics over the processes of a data-parallel run (PyTorch's `SyncBatchNorm`,
  /// `BatchNorm2D+Synchronized.swift`), or `nil` for statistics over this process's images
  /// alone. With one, `M` counts the values of every process and `μ`, `σ²` and the backward
  /// sums are the whole batch's.
  public var synchronizer: (any BatchStatisticsSynchronizer)?
  /// The threads to split the channels across, in place of `ComputeThreads.count` (for tests,
  /// which must not change the count other tests run with).
  var threads: Int?

  /// Creates a batch normalization of `featureCount` channels with `γ = 1`, `β = 0`, running
  /// mean 0 and running variance 1.
  ///
  /// - Parameters:
  ///   - epsilon: PyTorch's default is `1e-5`; torchvision's GoogLeNet uses `0.001`.
  ///   - momentum: PyTorch's default, `0.1`.
  public init(featureCount: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
    precondition(featureCount > 0, "BatchNorm2D needs a positive channel count, got \(featureCount)")
    precondition(epsilon > 0, "BatchNorm2D epsilon must be positive, got \(epsilon)")
    precondition(momentum >= 0 && momentum <= 1, "BatchNorm2D momentum must be in [0, 1], got \(momentum)")
    self.featureCount = featureCount
    self.epsilon = epsilon
    self.momentum = momentum
    self.weight = Parameter(Tensor(repeating: 1, shape: [featureCount]))
    self.bias = Parameter(.zeros([featureCount]))
    self.runningMean = Buffer(.zeros([featureCount]))
    self.runningVariance = Buffer(Tensor(repeating: 1, shape: [featureCount]))
    self.batchesTracked = Buffer(.zeros([]))
  }

  public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

  public var ownBuffers: [(name: String, buffer: Buffer)] {
    [("running_mean", runningMean), ("running_var", runningVariance), ("num_batches_tracked", batchesTracked)]
  }

  /// The message for an input this layer cannot take, or `nil` when it fits.
  public func validationError(for input: Shape) -> String? {
    if input.rank != 4 { return "expects an NCHW input [N, \(featureCount), H, W], got \(input)" }
    if input[1] != featureCount { return "expects [N, \(featureCount), H, W], got \(input)" }
    return nil
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    if let problem = validationError(for: input) {
      throw ShapeError(layer: "BatchNorm2D", expected: "[N, \(featureCount), H, W]", got: input, reason: problem)
    }
    return input
  }

  /// Normalizes with the running statistics.
  public func callAsFunction(_ input: Tensor) -> Tensor { infer(input, relu: false) }

  /// Normalizes with the running statistics, followed by a ReLU when `relu` (``BatchNormReLU``).
  func infer(_ input: Tensor, relu: Bool) -> Tensor {
    _ = trappingOnShapeError { () throws(ShapeError) in try self.outputShape(for: input.shape) }
    let mean = runningMean.value.scalars
    let inverseDeviation = runningVariance.value.scalars.map { 1 / Float.sqrt($0 + epsilon) }
    return normalize(input, mean: mean, inverseDeviation: inverseDeviation, relu: relu)
  }

  /// `y = γ·(x − μ)·invσ + β` per channel, then `y < 0 ? 0 : y` when `relu` (`reluForward`'s rule).
  func normalize(_ input: Tensor, mean: [Float], inverseDeviation: [Float], relu: Bool = false) -> Tensor {
    let (batch, channels, plane) = (input.shape[0], featureCount, input.shape[2] * input.shape[3])
    let gamma = weight.value.scalars
    let beta = bias.value.scalars
    let scale = (0..<channels).map { gamma[$0] * inverseDeviation[$0] }
    let shift = (0..<channels).map { beta[$0] - mean[$0] * scale[$0] }
    return Tensor(
      shape: input.shape,
      writingWith: { y in
        input.withPointer { x in
          batchNormNormalize(
            input: x, output: y, batch: batch, channels: channels, plane: plane, scale: scale, shift: shift,
            relu: relu, threads: threads ?? ComputeThreads.count)
        }
      })
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    forward(input, needsInputGradient: needsInputGradient, fusedReLU: false)
  }

  /// The training forward pass, followed by a ReLU in the same pass over the values when
  /// `fusedReLU` (``BatchNormReLU``): the output is then `ReLU`'s, and the pullback takes
  /// `ReLU`'s output gradient and masks it on the fly where it reads it.
  func forward(_ input: Tensor, needsInputGradient: Bool, fusedReLU: Bool) -> (output: Tensor, pullback: Pullback) {
    _ = trappingOnShapeError { () throws(ShapeError) in try self.outputShape(for: input.shape) }
    let (batch, channels, plane) = (input.shape[0], featureCount, input.shape[2] * input.shape[3])
    let localCount = batch * plane
    precondition(
      localCount > 1 || synchronizer != nil,
      "BatchNorm2D needs more than one value per channel in training, got input \(input.shape) "
        + "(use a batch of at least 2, or a larger image)")

    // Batch statistics, accumulated in Double (`batchNormMoments`): μ and the biased variance
    // σ² = E[x²] − μ².
    var mean = [Float](repeating: 0, count: channels)
    var variance = [Float](repeating: 0, count: channels)
    var count = localCount
    if let synchronizer {
      (mean, variance, count) = synchronizedStatistics(input, synchronizer)
    } else {
      let moments = input.withPointer { x in
        batchNormMoments(
          input: x, batch: batch, channels: channels, plane: plane, threads: threads ?? ComputeThreads.count)
      }
      for c in 0..<channels {
        let mu = moments.sums[c] / Double(localCount)
        mean[c] = Float(mu)
        variance[c] = Float(max(0, moments.squares[c] / Double(localCount) - mu * mu))
      }
    }
    updateRunningStatistics(mean: mean, variance: variance, count: count)

    let inverseDeviation = variance.map { 1 / Float.sqrt($0 + epsilon) }
    let output = normalize(input, mean: mean, inverseDeviation: inverseDeviation, relu: fusedReLU)
    let reluOutput = fusedReLU ? output : nil
    return (
      output,
      { [weight, bias, threads, synchronizer, count] dOutput in
        dOutput.expectShape(input.shape, "BatchNorm2D pullback")
        let gamma = weight.value.scalars
        guard let synchronizer else {
          // One process: the sums and dx in one pass over the blocks of channels.
          var dInput = Tensor(shape: needsInputGradient ? input.shape : [0], unsafeUninitialized: { _ in })
          let sums = withPointers(input, dOutput, reluOutput) { x, dy, r in
            dInput.withMutablePointer { dx in
              batchNormBackward(
                input: x, dOutput: dy, reluOutput: r, dInput: needsInputGradient ? dx : nil, batch: batch,
                channels: channels, plane: plane, count: Float(count), gamma: gamma, mean: mean,
                inverseDeviation: inverseDeviation, threads: threads ?? ComputeThreads.count)
            }
          }
          bias.accumulateGradient(Tensor(shape: [channels], scalars: sums.sum.map { Float($0) }))
          weight.accumulateGradient(Tensor(shape: [channels], scalars: sums.sumNormalized.map { Float($0) }))
          return dInput
        }
        // Per channel: Σ dy and Σ dy·x̂.
        let sums = withPointers(input, dOutput, reluOutput) { x, dy, r in
          batchNormGradientSums(
            input: x, dOutput: dy, reluOutput: r, batch: batch, channels: channels, plane: plane, mean: mean,
            inverseDeviation: inverseDeviation, threads: threads ?? ComputeThreads.count)
        }
        var sumGradient = sums.sum.map { Float($0) }
        var sumGradientNormalized = sums.sumNormalized.map { Float($0) }
        bias.accumulateGradient(Tensor(shape: [channels], scalars: sumGradient))
        weight.accumulateGradient(Tensor(shape: [channels], scalars: sumGradientNormalized))
        guard needsInputGradient else { return .zeros([0]) }
        // ∂L/∂x needs the whole batch's sums; γ's and β's gradients stay this process's own
        // (data parallelism averages them with every other gradient).
        (sumGradient, sumGradientNormalized) = Self.synchronizedGradientSums(
          sumGradient, sumGradientNormalized, synchronizer)
        return Tensor(
          shape: input.shape,
          writingWith: { [sumGradient, sumGradientNormalized] dx in
            withPointers(input, dOutput, reluOutput) { x, dy, r in
              let m = Float(count)
              batchNormInputGradient(
                input: x, dOutput: dy, reluOutput: r, dInput: dx, batch: batch, channels: channels, plane: plane,
                count: m, scale: (0..<channels).map { gamma[$0] * inverseDeviation[$0] / m }, sum: sumGradient,
                mean: mean, inverseDeviation: inverseDeviation, sumNormalized: sumGradientNormalized,
                threads: threads ?? ComputeThreads.count)
            }
          })
      }
    )
  }

  /// Moves the running statistics towards this batch's, with the unbiased variance.
  private func updateRunningStatistics(mean: [Float], variance: [Float], count: Int) {
    let m = momentum
    let correction = Float(count) / Float(count - 1)
    runningMean.value = Tensor(
      shape: [featureCount], scalars: zip(runningMean.value.scalars, mean).map { (1 - m) * $0 + m * $1 })
    runningVariance.value = Tensor(
      shape: [featureCount],
      scalars: zip(runningVariance.value.scalars, variance).map { (1 - m) * $0 + m * $1 * correction })
    batchesTracked.value = Tensor(shape: [], scalars: [batchesTracked.value.scalars[0] + 1])
  }
}
