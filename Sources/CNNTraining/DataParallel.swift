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
/// - **Averaged gradients.** Each step sums `(n_r / B) · g_r` over the ranks, where `g_r` is
///   rank `r`'s gradient of its own mean loss over its `n_r` images and `B = Σ n_r`: exactly the
///   gradient of the mean loss over the whole batch, also when the shares are uneven (PyTorch
///   averages with equal weights). The sums go in buckets of ``bucketCapacity`` floats, in
///   reverse parameter order (``GradientBuckets``), and overlap the backward pass: while it
///   runs, a `BackwardObserver` hears of each step whose pullback has finished, and a bucket
///   whose parameters are all final starts its non-blocking sum then, while the earlier layers
///   run backward.
///   ``averageGradients(_:localCount:globalCount:)`` starts the rest and waits for all.
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
  /// Seconds spent so far after the backward pass until the gradient sums were done: the
  /// communication the backward pass did not hide, including waiting for the slowest rank.
  public private(set) var gradientSeconds: Double = 0
  /// The gradient bytes each rank has contributed to sums so far.
  public private(set) var gradientBytes: Int = 0
  /// The steps whose gradients were summed so far.
  public private(set) var reducedSteps: Int = 0
  /// The buckets summed so far, and how many of them started during a backward pass.
  public private(set) var bucketCount = 0
  public private(set) var bucketsStartedEarly = 0

  private var currentBuckets: GradientBuckets?
  /// Bound while a step's pullback runs (``runBackward(_:)``).
  private lazy var observer = BackwardObserver { [unowned self] step in gradientsFinished(in: step) }
  /// Whether a step has begun (``beginStep(localCount:globalCount:)``) and its gradients are
  /// not yet averaged: only then does a finished layer start a bucket.
  private var inStep = false
  /// `n_r / B` of the current step, for synchronised batch norm's backward sums.
  private var weight: Double = 1
  /// `n_r / B` of the current step, the factor of this rank's gradients in the sum.
  private var scale: Float { Float(weight) }

  /// - Parameter bucketBytes: The size of one gradient sum (25 MB is PyTorch's default):
  ///   smaller buckets cost more latency, larger ones start later in the backward pass. The
  ///   buckets are staged in one buffer the size of all gradients (44.7 MB for ResNet-18), as
  ///   DDP's bucket views are.
  public init(context: any DistributedContext, bucketBytes: Int = 8 << 20) {
    precondition(bucketBytes >= 4, "DataParallel needs a bucket of at least one float")
    self.context = context
    self.bucketCapacity = bucketBytes / MemoryLayout<Float>.size
  }

  /// A line for the run's notes.
  public var summary: String {
    "Data-parallel over \(context.size) ranks: each takes its share of every batch, gradients are averaged "
      + "(buckets of \(bucketCapacity * 4 / 1_048_576) MiB, started during the backward pass), batch-norm statistics are "
      + (synchronizeBatchNorm ? "synchronised across ranks." : "per rank.")
  }

  /// A line on the time spent summing gradients: `gradient sums: 44.7 MB per step in 6
  /// buckets, 5 of 6 started during the backward pass; 12.3 s waited for them after it over 400
  /// steps (30.9 ms per step)`.
  public var communicationSummary: String {
    guard reducedSteps > 0 else { return "gradient sums: none" }
    let steps = Double(reducedSteps)
    let megabytes = Double(gradientBytes) / steps / 1e6
    return "gradient sums: \(megabytes.formatted(1)) MB per step in \(bucketCount / reducedSteps) buckets, "
      + "\((Double(bucketsStartedEarly) / steps).formatted(1)) of them started during the backward pass; "
      + "\(gradientSeconds.formatted(1)) s waited for them after it over \(reducedSteps) steps "
      + "(\((gradientSeconds / steps * 1000).formatted(1)) ms per step, including waiting for the slowest rank)"
  }

  // MARK: - Start

  /// Copies rank 0's parameters and buffers to every rank, and connects the model's batch-norm
  /// layers when ``synchronizeBatchNorm`` is set.
  public func broadcastState(of model: any Layer) {
    let parameters = model.parameters
    for parameter in parameters {
      parameter.value.withUnsafeMutableBufferPointer { context.broadcast($0, from: 0) }
    }
    broadcastBuffers(of: model)
    for layer in model.layers(ofType: BatchNorm2D.self) {
      layer.synchronizer = synchronizeBatchNorm ? self : nil
    }
    _ = buckets(for: parameters)
  }

  /// Runs a step's `pullback`, starting the sum of each bucket as soon as the backward pass has
  /// finished its gradients (see ``BackwardObserver``).
  func runBackward(_ pullback: () -> Void) {
    guard context.size > 1 else { return pullback() }
    BackwardObserver.$current.withValue(observer, operation: pullback)
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
    currentBuckets?.reset()
    inStep = true
  }

  /// Replaces each gradient with `Σ_r (n_r / B) · g_r`, the gradient of the whole batch's mean loss.
  ///
  /// The buckets whose gradients the backward pass finished are already being summed (see
  /// ``broadcastState(of:)``); this starts the rest, waits for all of them and copies the sums
  /// back.
  ///
  /// - Parameters:
  ///   - parameters: The model's parameters, in the order of `model.parameters` (the same on
  ///     every rank).
  ///   - localCount: `n_r`, the images this rank's gradient is the mean over (0: its gradients
  ///     are zero and it still takes part).
  ///   - globalCount: `B`, the images of the whole batch.
  public func averageGradients(_ parameters: [Parameter], localCount: Int, globalCount: Int) {
    defer { inStep = false }
    guard context.size > 1 else { return }
    let clock = ContinuousClock()
    let start = clock.now
    // Called without beginStep (outside a training step), nothing has started yet.
    if !inStep { beginStep(localCount: localCount, globalCount: globalCount) }
    let buckets = buckets(for: parameters)
    buckets.markAllFinished()
    buckets.startReady(scale: scale, using: context)
    context.finishSums()
    buckets.copyBack()
    gradientBytes += buckets.floatCount * MemoryLayout<Float>.size
    bucketCount += buckets.buckets.count
    reducedSteps += 1
    gradientSeconds += (clock.now - start).seconds
  }

  /// Marks the parameters of `step` final for this step and starts the buckets that completes.
  func gradientsFinished(in step: any Layer) {
    guard inStep, context.size > 1, let buckets = currentBuckets else { return }
    buckets.markFinished(step.parameters)
    bucketsStartedEarly += buckets.startReady(scale: scale, using: context)
    context.advanceSums()
  }

  /// The buckets of `parameters`, made on first use (and again if the parameters change).
  private func buckets(for parameters: [Parameter]) -> GradientBuckets {
    if let currentBuckets, currentBuckets.fits(parameters) { return currentBuckets }
    let made = GradientBuckets(parameters, capacity: bucketCapacity)
    currentBuckets = made
    return made
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
