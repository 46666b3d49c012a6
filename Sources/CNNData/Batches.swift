/// The batches of one epoch over a dataset, in a fixed order of samples.
///
/// Each sample appears exactly once per epoch. Batch `i` holds samples
/// `order[i·size ..< min((i+1)·size, order.count)]`; the last batch is smaller when `size`
/// does not divide the count, unless `dropLast` leaves it out. Batches are built (bytes to
/// `Float`) only when accessed, so iterating holds one batch tensor at a time.
///
///     var rng = SeededGenerator(seed: 42)
///     for batch in mnist.training.batches(size: 100, shuffledUsing: &rng) { … }
public struct Batches: RandomAccessCollection, Sendable {
  /// The dataset the batches come from.
  public let dataset: Dataset
  /// The sample indices in the order the epoch visits them.
  public let order: [Int]
  /// The number of samples per batch (the last may have fewer).
  public let batchSize: Int
  /// Whether a last, smaller batch is left out.
  public let dropLast: Bool
  /// In data-parallel training, this process's part of every batch (see ``sharded(rank:of:)``);
  /// `nil` for whole batches.
  public let shard: (rank: Int, count: Int)?

  /// Creates the batches that visit `dataset` in `order`.
  public init(dataset: Dataset, order: [Int], batchSize: Int, dropLast: Bool = false) {
    precondition(batchSize > 0, "Batch size must be positive, got \(batchSize)")
    self.dataset = dataset
    self.order = order
    self.batchSize = batchSize
    self.dropLast = dropLast
    self.shard = nil
  }

  private init(_ batches: Batches, shard: (rank: Int, count: Int)) {
    self.dataset = batches.dataset
    self.order = batches.order
    self.batchSize = batches.batchSize
    self.dropLast = batches.dropLast
    self.shard = shard
  }

  /// The same batches, each cut to rank `rank`'s share of `count` near-equal, contiguous parts:
  /// of a batch of `n` samples, rank `r` takes positions `⌊r·n/count⌋ ..< ⌊(r+1)·n/count⌋`.
  /// The ranks' parts of a batch are disjoint and together make the whole batch, so `batchSize`
  /// stays the global batch.
  public func sharded(rank: Int, of count: Int) -> Batches {
    precondition(count > 0 && (0..<count).contains(rank), "Rank \(rank) is not in 0..<\(count)")
    return Batches(self, shard: (rank, count))
  }

  /// The number of samples in the whole (global) batch `position`, over all shards.
  public func globalCount(at position: Int) -> Int {
    let start = position * batchSize
    return Swift.min(start + batchSize, order.count) - start
  }

  /// The positions in ``order`` of batch `position` (this shard's part of it, when sharded).
  public func orderRange(at position: Int) -> Range<Int> {
    let start = position * batchSize
    let end = Swift.min(start + batchSize, order.count)
    guard let shard else { return start..<end }
    let n = end - start
    return (start + shard.rank * n / shard.count)..<(start + (shard.rank + 1) * n / shard.count)
  }

  /// The first batch's position, 0.
  public var startIndex: Int { 0 }
  /// The number of batches: `⌈order.count / batchSize⌉`, or `⌊…⌋` with `dropLast`.
  public var endIndex: Int {
    dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
  }

  /// Batch `position`: images `[B, C, H, W]` scaled to `[0, 1]`, and their labels.
  public subscript(position: Int) -> Batch {
    precondition(indices.contains(position), "Batch \(position) is out of range 0..<\(endIndex)")
    return dataset.batch(indices: order[orderRange(at: position)])
  }
}

extension Dataset {
  /// The batches of one epoch in a random order drawn from `generator`.
  ///
  /// The order is a Fisher–Yates shuffle driven only by `generator` (with its own bounded
  /// sampling, so the order does not depend on the standard library's version): the same
  /// generator state gives the same batches on every machine.
  ///
  /// - Parameters:
  ///   - size: The number of samples per batch.
  ///   - generator: The source of randomness; it advances by `count − 1` draws or slightly more.
  ///   - dropLast: Whether to leave out a last batch smaller than `size`.
  public func batches(
    size: Int, shuffledUsing generator: inout some RandomNumberGenerator, dropLast: Bool = false
  ) -> Batches {
    var order = Array(0..<count)
    var i = order.count - 1
    while i > 0 {
      order.swapAt(i, Int(uniformBelow(UInt64(i + 1), using: &generator)))
      i -= 1
    }
    return Batches(dataset: self, order: order, batchSize: size, dropLast: dropLast)
  }

  /// The batches of one pass in sample order, for evaluation.
  public func batches(size: Int, dropLast: Bool = false) -> Batches {
    Batches(dataset: self, order: Array(0..<count), batchSize: size, dropLast: dropLast)
  }
}

/// A uniform integer in `0..<bound` without bias (Lemire, "Fast Random Integer Generation in
/// an Interval", ACM TOMS 2019, doi:10.1145/3230636).
func uniformBelow(_ bound: UInt64, using generator: inout some RandomNumberGenerator) -> UInt64 {
  precondition(bound > 0, "uniformBelow needs a positive bound")
  var (high, low) = generator.next().multipliedFullWidth(by: bound)
  if low < bound {
    let threshold = (0 &- bound) % bound
    while low < threshold { (high, low) = generator.next().multipliedFullWidth(by: bound) }
  }
  return high
}
