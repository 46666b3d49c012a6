import CNNLayers
import CNNTensor

/// A model's parameter gradients grouped into buckets that are summed over the ranks as one
/// message each, the way PyTorch's `DistributedDataParallel` groups them.
///
/// Buckets follow the parameters in reverse order (the order a backward pass finishes them),
/// each filled up to `capacity` floats; a parameter larger than that has a bucket of its own.
/// Every bucket has its place in one staging buffer, `staging[offset..<offset + count]`, laid
/// out in the same order; the sums run on the staging buffer, never on the gradients, which
/// may move in memory.
///
/// A step ``reset()``s the bucket state, marks parameters final as the backward pass finishes
/// them (``markFinished(_:)``), and ``startReady(scale:using:)`` starts each bucket whose
/// parameters are all final, strictly in bucket order, so that every rank starts the same sums
/// in the same order (MPI's rule for collectives) whatever order its layers report in.
final class GradientBuckets {
  /// One message: consecutive parameters (in reverse model order) and their place in `staging`.
  struct Bucket {
    let parameters: [Parameter]
    let offset: Int
    let count: Int
    /// Parameters of this bucket not yet final in the current step.
    var remaining: Int
  }

  private(set) var buckets: [Bucket] = []
  /// The bucket of each parameter.
  private var bucketOf: [ObjectIdentifier: Int] = [:]
  /// The parameters already final in the current step.
  private var finished: Set<ObjectIdentifier> = []
  /// The buckets started in the current step (always a prefix of `buckets`).
  private(set) var started = 0
  /// The parameters the buckets were made for, in model order.
  let parameterIdentities: [ObjectIdentifier]
  private let staging: UnsafeMutableBufferPointer<Float>

  /// Groups `parameters` (in model order) into buckets of at most `capacity` floats.
  init(_ parameters: [Parameter], capacity: Int) {
    precondition(capacity > 0, "a gradient bucket holds at least one float")
    parameterIdentities = parameters.map(ObjectIdentifier.init)
    var current: [Parameter] = []
    var filled = 0
    var offset = 0
    var buckets: [Bucket] = []
    func close() {
      guard !current.isEmpty else { return }
      buckets.append(Bucket(parameters: current, offset: offset, count: filled, remaining: current.count))
      offset += filled
      current = []
      filled = 0
    }
    var seen: Set<ObjectIdentifier> = []
    for parameter in parameters.reversed() where seen.insert(ObjectIdentifier(parameter)).inserted {
      let count = parameter.gradient.scalarCount
      if filled > 0 && filled + count > capacity { close() }
      current.append(parameter)
      filled += count
      if filled >= capacity { close() }
    }
    close()
    for (index, bucket) in buckets.enumerated() {
      for parameter in bucket.parameters { bucketOf[ObjectIdentifier(parameter)] = index }
    }
    self.buckets = buckets
    staging = .allocate(capacity: max(offset, 1))
    staging.initialize(repeating: 0)
  }

  deinit { staging.deallocate() }

  /// Whether these buckets were made for exactly `parameters`.
  func fits(_ parameters: [Parameter]) -> Bool {
    parameters.count == parameterIdentities.count
      && zip(parameters, parameterIdentities).allSatisfy { ObjectIdentifier($0) == $1 }
  }

  /// The floats of all buckets together.
  var floatCount: Int { buckets.last.map { $0.offset + $0.count } ?? 0 }

  /// Forgets the previous step: no parameter is final and no bucket started.
  func reset() {
    finished.removeAll(keepingCapacity: true)
    for index in buckets.indices { buckets[index].remaining = buckets[index].parameters.count }
    started = 0
  }

  /// Records that the gradients of `parameters` are final for this step (repeats and
  /// parameters of no bucket are ignored).
  func markFinished(_ parameters: [Parameter]) {
    for parameter in parameters {
      let identity = ObjectIdentifier(parameter)
      guard let index = bucketOf[identity], finished.insert(identity).inserted else { continue }
      buckets[index].remaining -= 1
    }
  }

  /// Records every parameter as final (the backward pass is over).
  func markAllFinished() {
    for index in buckets.indices { buckets[index].remaining = 0 }
  }

  /// Starts the sum of each bucket that is complete and follows the ones already started:
  /// copies its gradients, times `scale`, into its staging place and hands that to
  /// `context.startSum`. Returns how many buckets it started.
  @discardableResult
  func startReady(scale: Float, using context: any DistributedContext) -> Int {
    var count = 0
    while started < buckets.count, buckets[started].remaining == 0 {
      let bucket = buckets[started]
      var offset = bucket.offset
      for parameter in bucket.parameters {
        parameter.gradient.withUnsafeBufferPointer { gradient in
          for i in gradient.indices { staging[offset + i] = gradient[i] * scale }
        }
        offset += parameter.gradient.scalarCount
      }
      context.startSum(UnsafeMutableBufferPointer(rebasing: staging[bucket.offset..<(bucket.offset + bucket.count)]))
      started += 1
      count += 1
    }
    return count
  }

  /// Copies the summed buckets back into the gradients (after every sum has finished).
  func copyBack() {
    precondition(started == buckets.count, "copyBack() before every bucket was summed")
    for bucket in buckets {
      var offset = bucket.offset
      for parameter in bucket.parameters {
        parameter.gradient.withUnsafeMutableBufferPointer { gradient in
          for i in gradient.indices { gradient[i] = staging[offset + i] }
        }
        offset += parameter.gradient.scalarCount
      }
    }
  }
}
