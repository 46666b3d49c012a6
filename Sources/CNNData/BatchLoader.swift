import CNNTensor
import Foundation

/// How a batch's bytes become the tensor the model sees: scale to `[0, 1]`, augment (training
/// only), normalize.
///
/// The randomness of batch `i` of an epoch comes only from the epoch's seed and `i`
/// (``batchSeed(epochSeed:position:)``), never from a shared generator, so batches can be
/// prepared in any order, on any thread, and still be the same.
public struct BatchPreparation: Sendable, Equatable {
  /// Random changes to each training image.
  public var augmentation: AugmentationPipeline
  /// Per-channel standardisation after scaling, or `nil` for `[0, 1]` pixels.
  public var normalization: Normalization?

  /// Scale to `[0, 1]` and nothing else: exactly `Dataset.batch(indices:)`.
  public static let plain = BatchPreparation()

  public init(augmentation: AugmentationPipeline = .none, normalization: Normalization? = nil) {
    self.augmentation = augmentation
    self.normalization = normalization
  }

  /// Whether this is ``plain``.
  public var isPlain: Bool { augmentation.isEmpty && normalization == nil }

  /// The seed of batch `position`'s augmentation generator: a splitmix64 hash of both, so
  /// neighbouring batches get unrelated streams.
  public static func batchSeed(epochSeed: UInt64, position: Int) -> UInt64 {
    mix64(epochSeed &+ mix64(UInt64(truncatingIfNeeded: position) &+ 0x9E37_79B9_7F4A_7C15))
  }

  /// Batch `position` of `batches`, prepared; `epochSeed` drives the augmentation.
  public func batch(_ batches: Batches, at position: Int, epochSeed: UInt64 = 0) -> Batch {
    let indices = batches.order[batches.orderRange(at: position)]
    var generator = SeededGenerator(seed: Self.batchSeed(epochSeed: epochSeed, position: position))
    return batches.dataset.batch(indices: indices, preparation: self, using: &generator)
  }
}

extension Dataset {
  /// The images at `indices` as a batch, scaled to `[0, 1]`, augmented with `generator`, then
  /// normalized. With ``BatchPreparation/plain`` it is `batch(indices:)`.
  public func batch(
    indices: some Collection<Int>, preparation: BatchPreparation, using generator: inout some RandomNumberGenerator
  ) -> Batch {
    if preparation.isPlain { return batch(indices: indices) }
    if let normalization = preparation.normalization {
      precondition(
        normalization.channels == channels,
        "Normalization for \(normalization.channels) channels applied to \(channels)-channel images")
    }
    var result = batch(indices: indices)
    let size = pixelsPerImage, plane = height * width
    var scratch = [Float](repeating: 0, count: size)
    result.images.withUnsafeMutableBufferPointer { all in
      scratch.withUnsafeMutableBufferPointer { scratch in
        for image in 0..<indices.count {
          let one = UnsafeMutableBufferPointer(rebasing: all[(image * size)..<((image + 1) * size)])
          preparation.augmentation.apply(
            to: one, channels: channels, height: height, width: width, scratch: scratch, using: &generator)
          preparation.normalization?.apply(to: one, channels: channels, plane: plane)
        }
      }
    }
    return result
  }
}

/// The batches of one epoch, prepared on a background thread while the caller trains.
///
/// A producer thread prepares batch 0, 1, 2, … in order and keeps at most `prefetch` of
/// them waiting; iterating takes them in the same order. What each batch holds depends only on
/// `batches`, `preparation` and `epochSeed` (see ``BatchPreparation``), so the loader gives
/// exactly the batches of the synchronous path, `prefetch: 0`, whatever the timing. Stopping
/// early (dropping the loader) stops the thread.
///
///     let loader = BatchLoader(batches, preparation: .init(augmentation: flipAndCrop), epochSeed: rng.next())
///     for batch in loader { trainer.step(batch) }
public final class BatchLoader: Sequence, IteratorProtocol {
  /// The epoch's batches (the order and the batch size).
  public let batches: Batches
  /// How each batch is prepared.
  public let preparation: BatchPreparation
  /// The seed every batch's augmentation generator derives from.
  public let epochSeed: UInt64
  /// How many prepared batches may wait (0: prepare each on demand, on the caller's thread).
  public let prefetch: Int
  private var position = 0
  private let queue: PrefetchQueue?

  /// Starts preparing `batches` (unless `prefetch` is 0).
  public init(_ batches: Batches, preparation: BatchPreparation = .plain, epochSeed: UInt64 = 0, prefetch: Int = 2) {
    precondition(prefetch >= 0, "BatchLoader needs prefetch ≥ 0, got \(prefetch)")
    self.batches = batches
    self.preparation = preparation
    self.epochSeed = epochSeed
    self.prefetch = prefetch
    guard prefetch > 0, batches.count > 1 else {
      queue = nil
      return
    }
    let queue = PrefetchQueue(capacity: prefetch)
    self.queue = queue
    let thread = Thread { [batches, preparation, epochSeed] in
      for index in 0..<batches.count {
        guard queue.waitForRoom() else { return }
        queue.put(preparation.batch(batches, at: index, epochSeed: epochSeed))
      }
    }
    thread.name = "CNNData.BatchLoader"
    thread.start()
  }

  deinit { queue?.cancel() }

  /// The next batch, waiting for the producer if it is behind; `nil` after the last.
  public func next() -> Batch? {
    guard position < batches.count else { return nil }
    defer { position += 1 }
    guard let queue else { return preparation.batch(batches, at: position, epochSeed: epochSeed) }
    return queue.take()
  }
}

/// A bounded first-in, first-out hand-over between one producer and one consumer.
private final class PrefetchQueue: @unchecked Sendable {
  private let condition = NSCondition()
  private var items: [Batch] = []
  private var cancelled = false
  private let capacity: Int

  init(capacity: Int) { self.capacity = capacity }

  /// Blocks while the queue is full; `false` once cancelled.
  func waitForRoom() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while items.count >= capacity && !cancelled { condition.wait() }
    return !cancelled
  }

  func put(_ batch: Batch) {
    condition.lock()
    items.append(batch)
    condition.broadcast()
    condition.unlock()
  }

  func take() -> Batch {
    condition.lock()
    defer { condition.unlock() }
    while items.isEmpty { condition.wait() }
    condition.broadcast()
    return items.removeFirst()
  }

  func cancel() {
    condition.lock()
    cancelled = true
    items.removeAll()
    condition.broadcast()
    condition.unlock()
  }
}

/// The splitmix64 finalizer (Steele, Lea and Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): a bijective mix of 64 bits.
func mix64(_ value: UInt64) -> UInt64 {
  var z = value
  z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
  z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
  return z ^ (z >> 31)
}
