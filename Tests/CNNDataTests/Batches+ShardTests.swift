import CNNTensor
import Testing

@testable import CNNData

/// `Batches.sharded(rank:of:)`: data parallelism's split of every global batch.
@Suite struct BatchesShardTests {
  /// `count` 1×1×1 images; the pixel of image `i` is `i`.
  private func numbered(_ count: Int) -> Dataset {
    Dataset(
      images: (0..<count).map { UInt8($0) }, labels: (0..<count).map { $0 % 2 }, channels: 1, height: 1, width: 1,
      classNames: ["a", "b"])
  }

  private func samples(_ batch: Batch) -> [Int] { batch.images.scalars.map { Int(($0 * 255).rounded()) } }

  @Test func theRanksSharesMakeEachWholeBatchInOrder() {
    var rng = SeededGenerator(seed: 3)
    let whole = numbered(23).batches(size: 7, shuffledUsing: &rng)  // batches of 7, 7, 7, 2
    for ranks in 1...4 {
      let shards = (0..<ranks).map { whole.sharded(rank: $0, of: ranks) }
      for position in whole.indices {
        let parts = shards.map { samples($0[position]) }
        #expect(parts.flatMap { $0 } == samples(whole[position]), "\(ranks) ranks, batch \(position)")
        #expect(parts.map(\.count).max()! - parts.map(\.count).min()! <= 1, "near-equal shares")
        #expect(shards.allSatisfy { $0.globalCount(at: position) == whole[position].count })
      }
      #expect(shards.allSatisfy { $0.count == whole.count }, "every rank steps as often")
    }
    // Batch of 2 over 3 ranks: rank 0 gets nothing (⌊0·2/3⌋..<⌊1·2/3⌋), ranks 1 and 2 one each.
    #expect(whole.sharded(rank: 0, of: 3)[3].count == 0)
    #expect(whole.sharded(rank: 2, of: 3)[3].count == 1)
  }

  @Test func preparedShardsAreTheShardsOfThePreparedOrder() {
    var rng = SeededGenerator(seed: 5)
    let whole = numbered(10).batches(size: 4, shuffledUsing: &rng)
    let shard = whole.sharded(rank: 1, of: 2)
    let loaded = BatchLoader(shard, prefetch: 0).map(samples)
    #expect(loaded == [Array(whole.order[2..<4]), Array(whole.order[6..<8]), Array(whole.order[9..<10])])
  }
}
