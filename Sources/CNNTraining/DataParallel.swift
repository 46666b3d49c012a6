import CNNData
import CNNLayers
import CNNTensor

/// Data-parallel training over the ranks of a ``DistributedContext``, with the semantics of
/// PyTorch's `DistributedDataParallel`.
///
/// - **Same start.** ``broadcastState(of:)`` copies rank 0's parameters and buffers to every
///   rank before the first step.
/// - **Global batch.** `--batch-size` stays the global batch: every rank draws the same
///   shuffled order from the run's seed and takes its contiguous share of each batch
///   (``shard(_:)``, `Batches.sharded(rank:of:)`).
/// - **Averaged gradients.** After the backward pass, ``averageGradients(_:localCount:globalCount:)``
///   sums `(n_r / B) · g_r` over the ranks, where `g_r` is rank `r`'s gradient of its own mean
///   loss over its `n_r` images and `B = Σ n_r`: exactly the gradient of the mean loss over the
///   whole batch, also when the shares are uneven (PyTorch averages with equal weights). The
///   sums go in buckets of ``bucketCapacity`` floats, in reverse parameter order (the order the
///   backward pass finishes them). They start after the backward pass, not during it: a layer's
///   pullback gives no signal when its parameters' gradients are final.
/// - **Identical steps.** Every rank then clips and steps the optimizer on the same sums, so the
///   parameters stay the same on every rank without being sent again.
/// - **Batch norm.** Statistics are per rank (each over its share) unless
///   ``synchronizeBatchNorm`` is set, which sums them over the ranks (PyTorch's `SyncBatchNorm`),
///   so the run computes what one process computes on the whole batch. Running statistics are
///   rank 0's: they are broadcast before each evaluation.
/// - **Augmentation.** Rank `r` augments batch `i` with a generator seeded from the epoch's
///   seed (drawn from the run's seed), `r` and `i` (``augmentationSeed(_:)``): reproducible, and
///   different on each rank.
/// - **Evaluation.** Each rank evaluates a contiguous share of the test set; the losses and
///   counts are summed.
public final class DataParallel {
  /// The ranks.
  public let context: any DistributedContext
  /// The floats summed in one call (a bucket); larger gradients are summed on their own.
  public var bucketCapacity: Int
  /// Whether batch norm's statistics are summed over the ranks (see ``DataParallel``).
  public var synchronizeBatchNorm = false
  /// Seconds spent summing gradients so far, after every rank had arrived (see ``waitingSeconds``).
  public private(set) var gradientSeconds: Double = 0
  /// Seconds spent so far waiting for the slowest rank to finish its backward pass (measured
  /// as a one-float sum before the gradients').
  public private(set) var waitingSeconds: Double = 0
  /// The gradient bytes each rank has contributed to sums so far.
  public private(set) var gradientBytes: Int = 0
  /// The steps whose gradients were summed so far.
  public private(set) var reducedSteps: Int = 0

  private var staging: [Float] = []
  /// `n_r / B` of the current step, for synchronised batch norm's backward sums.
  private var weight: Double = 1

  /// - Parameter bucketBytes: The size of one gradient sum (25 MB is PyTorch's default;
  ///   smaller buckets cost more latency, larger ones more staging memory).
  public init(context: any DistributedContext, bucketBytes: Int = 8 << 20) {
    precondition(bucketBytes >= 4, "DataParallel needs a bucket of at least one float")
    self.context = context
    self.bucketCapacity = bucketBytes / MemoryLayout<Float>.size
  }

  /// A line for the run's notes.
  public var summary: String {
    "Data-parallel over \(context.size) ranks: each takes its share of every batch, gradients are averaged "
      + "(buckets of \(bucketCapacity * 4 / 1_048_576) MiB, after the backward pass), batch-norm statistics are "
      + (synchronizeBatchNorm ? "synchronised across ranks." : "per rank.")
  }

  /// A line on the time spent summing gradients: `gradient sums: 12.3 s for 400 steps (30.9 ms
  /// per step, 44.7 MB each), after waiting 2.1 ms per step for the slowest rank`.
  public var communicationSummary: String {
    guard reducedSteps > 0 else { return "gradient sums: none" }
    let perStep = gradientSeconds / Double(reducedSteps)
    let megabytes = Double(gradientBytes) / Double(reducedSteps) / 1e6
    let waiting = waitingSeconds / Double(reducedSteps)
    return "gradient sums: \(gradientSeconds.formatted(1)) s for \(reducedSteps) steps "
      + "(\((perStep * 1000).formatted(1)) ms per step, \(megabytes.formatted(1)) MB each), "
      + "after waiting \((waiting * 1000).formatted(1)) ms per step for the slowest rank"
  }

  // MARK: - Start

  /// Copies rank 0's parameters and buffers to every rank, and connects the model's batch-norm
  /// layers when ``synchronizeBatchNorm`` is set.
  public func broadcastState(of model: any Layer) {
    for parameter in model.parameters {
      parameter.value.withUnsafeMutableBufferPointer { context.broadcast($0, from: 0) }
    }
    broadcastBuffers(of: model)
    for layer in model.layers(ofType: BatchNorm2D.self) {
      layer.synchronizer = synchronizeBatchNorm ? self : nil
    }
  }

  /// Copies rank 0's buffers (batch norm's running statistics) to every rank.
  public func broadcastBuffers(of model: any Layer) {
    for (_, buffer) in model.namedBuffers {
      buffer.value.withUnsafeMutableBufferPointer { context.broadcast($0, from: 0) }
    }
  }

  // MARK: - Steps

  /// This rank's share of every batch.
  public func shard(_ batches: Batches) -> Batches {
    context.size == 1 ? batches : batches.sharded(rank: context.rank, of: context.size)
  }

  /// The augmentation seed of this rank's batches in an epoch whose seed is `epochSeed` (drawn
  /// from the run's generator): `epochSeed` itself on one process, a splitmix64 hash of it and
  /// the rank otherwise.
  public func augmentationSeed(_ epochSeed: UInt64) -> UInt64 {
    context.size == 1 ? epochSeed : Self.mix(epochSeed ^ Self.mix(UInt64(context.rank) &+ 0x9E37_79B9_7F4A_7C15))
  }

  /// Called before a step's forward pass with this rank's and the whole batch's sample counts.
  func beginStep(localCount: Int, globalCount: Int) {
    weight = Double(localCount) / Double(max(globalCount, 1))
  }

  /// Replaces each gradient with `Σ_r (n_r / B) · g_r`, the gradient of the whole batch's mean loss.
  ///
  /// - Parameters:
  ///   - parameters: The model's parameters, in the order of `model.parameters` (the same on
  ///     every rank).
  ///   - localCount: `n_r`, the images this rank's gradient is the mean over (0: its gradients
  ///     are zero and it still takes part).
  ///   - globalCount: `B`, the images of the whole batch.
  public func averageGradients(_ parameters: [Parameter], localCount: Int, globalCount: Int) {
    guard context.size > 1 else { return }
    let clock = ContinuousClock()
    let arrival = clock.now
    _ = context.sum([0.0])
    let start = clock.now
    waitingSeconds += (start - arrival).seconds
    let scale = Float(localCount) / Float(globalCount)
    if staging.count < bucketCapacity { staging = [Float](repeating: 0, count: bucketCapacity) }
    var filled = 0
    var pending: [Parameter] = []
    func flush() {
      guard filled > 0 else { return }
      staging.withUnsafeMutableBufferPointer { buffer in
        context.sum(UnsafeMutableBufferPointer(rebasing: buffer[0..<filled]))
        var offset = 0
        for parameter in pending {
          let count = parameter.gradient.scalarCount
          parameter.gradient.withUnsafeMutableBufferPointer { gradient in
            for i in 0..<count { gradient[i] = buffer[offset + i] }
          }
          offset += count
        }
      }
      filled = 0
      pending.removeAll(keepingCapacity: true)
    }
    for parameter in parameters.reversed() {
      let count = parameter.gradient.scalarCount
      gradientBytes += count * MemoryLayout<Float>.size
      if count > bucketCapacity {
        flush()
        parameter.gradient.withUnsafeMutableBufferPointer { gradient in
          for i in gradient.indices { gradient[i] *= scale }
          context.sum(gradient)
        }
        continue
      }
      if filled + count > bucketCapacity { flush() }
      staging.withUnsafeMutableBufferPointer { buffer in
        parameter.gradient.withUnsafeMutableBufferPointer { gradient in
          for i in 0..<count { buffer[filled + i] = gradient[i] * scale }
        }
      }
      pending.append(parameter)
      filled += count
    }
    flush()
    reducedSteps += 1
    gradientSeconds += (clock.now - start).seconds
  }

  /// The whole batch's mean loss and correct count from each rank's mean loss over `localCount`
  /// images and its correct count.
  public func sumStep(loss: Float, correct: Int, localCount: Int, globalCount: Int) -> (loss: Float, correct: Int) {
    guard context.size > 1 else { return (loss, correct) }
    let sums = context.sum([Double(loss) * Double(localCount), Double(correct)])
    return (Float(sums[0] / Double(globalCount)), Int(sums[1].rounded()))
  }

  // MARK: - Evaluation

  /// Evaluates `model` on `dataset`, each rank on a contiguous share, with rank 0's buffers.
  public func evaluate(
    _ model: any Layer, on dataset: Dataset, batchSize: Int, normalization: Normalization?
  ) -> Evaluation {
    guard context.size > 1 else { return model.evaluate(on: dataset, batchSize: batchSize, normalization: normalization) }
    broadcastBuffers(of: model)
    let (rank, size, n) = (context.rank, context.size, dataset.count)
    let part = dataset[(rank * n / size)..<((rank + 1) * n / size)]
    let local = part.count > 0
      ? model.evaluate(on: part, batchSize: batchSize, normalization: normalization)
      : Evaluation(loss: 0, accuracy: 0, count: 0, correct: 0)
    let sums = context.sum([Double(local.loss) * Double(local.count), Double(local.correct), Double(local.count)])
    let (correct, count) = (Int(sums[1].rounded()), Int(sums[2].rounded()))
    return Evaluation(
      loss: count > 0 ? Float(sums[0] / Double(count)) : 0, accuracy: count > 0 ? Float(correct) / Float(count) : 0,
      count: count, correct: correct)
  }

  /// The splitmix64 finalizer (Steele, Lea and Flood, OOPSLA 2014).
  static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension DataParallel: BatchStatisticsSynchronizer {
  public func sumStatistics(_ values: inout [Double]) {
    values.withUnsafeMutableBufferPointer { context.sum($0) }
  }

  /// Sums per-channel sums of gradients that carry this rank's `1/n_r` loss scale: weighted by
  /// `n_r/B` into the whole batch's scale, summed, and scaled back by `B/n_r`.
  public func sumGradients(_ values: inout [Double]) {
    let weight = self.weight
    for i in values.indices { values[i] *= weight }
    values.withUnsafeMutableBufferPointer { context.sum($0) }
    if weight > 0 { for i in values.indices { values[i] /= weight } }
  }
}

extension DataParallel {
  /// Traps when some batch would leave a rank without images while batch norm is synchronised
  /// (that rank would skip the forward pass the others wait in).
  func check(batchSize: Int, samples: Int, dropLast: Bool) {
    guard synchronizeBatchNorm, context.size > 1 else { return }
    let last = samples % batchSize
    precondition(
      batchSize >= context.size && (dropLast || last == 0 || last >= context.size),
      "Synchronised batch norm over \(context.size) ranks needs at least \(context.size) images in every batch "
        + "(batches of \(batchSize) over \(samples) images leave a last batch of \(last); use --drop-last)")
  }
}
