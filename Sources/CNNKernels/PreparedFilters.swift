// Filters transformed once and kept across inference calls, for calls too small to pay for
// transforming them every time.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a convolution derives from its weights for the forward pass, kept across calls while
/// the weights stay the same: Winograd's transformed filters U (`WinogradFilters`, 16 or 36
/// floats per 3×3 filter instead of 9), or the filters packed as the GEMM's A
/// (`PackedLeftOperand`, as many floats as the weight) for calls of fewer than 4096 output
/// positions (`ConvolutionPlan.suitsPackedWeight`).
///
/// Transforming the filters costs about as much as a batch-1 call's multiplications on 14² and
/// 28² maps, so without it those calls run as im2col + GEMM (`ConvolutionPlan.suitsWinograd`
/// asks for 256 tiles); with the filters prepared, they run as Winograd from 16 tiles up
/// (`suitsPreparedWinograd`). Calls with enough tiles transform their own, as before, so a
/// batch-32 call holds no extra memory.
///
/// A `Conv2D` layer keeps one for its inference calls: it calls `update(version:)` with its
/// weight's `Parameter.version` before each call (which drops what another version gave), and
/// `removeAll()` when training, which changes the weights every step, begins. Safe to use from
/// several threads at once.
public final class PreparedFilters: @unchecked Sendable {
  /// The filters are transformed per algorithm, filter count and micro-kernel row count.
  struct WinogradKey: Hashable {
    let algorithm: WinogradAlgorithm
    let outputs: Int
    let inputs: Int
    let mr: Int
  }

  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var version: UInt64?
  private var winograd: [WinogradKey: PreparedWinogradFilters] = [:]
  private var packed: PackedLeftOperand?

  public init() { pthread_mutex_init(mutex, nil) }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  /// Declares the version of the weights the next calls pass; what was prepared from any other
  /// version is dropped.
  public func update(version: UInt64) {
    locked {
      if self.version != version {
        winograd.removeAll()
        packed = nil
      }
      self.version = version
    }
  }

  /// Drops everything prepared (its memory is freed once no call still uses it).
  public func removeAll() {
    locked {
      winograd.removeAll()
      packed = nil
      version = nil
    }
  }

  /// The floats held, over every prepared form.
  public var floatCount: Int {
    locked { winograd.values.reduce(packed?.floatCount ?? 0) { $0 + $1.floatCount } }
  }

  /// The forward pass's transformed filters for `plan` (`plan.winogradShape.algorithm`),
  /// transformed from `weight` on first use.
  func winogradFilters(
    plan: ConvolutionPlan, weight: UnsafePointer<Float>, mr: Int, threads: Int
  ) -> PreparedWinogradFilters {
    let key = WinogradKey(
      algorithm: plan.winogradShape.algorithm, outputs: plan.outputChannels, inputs: plan.inputChannels, mr: mr)
    if let found = locked({ winograd[key] }) { return found }
    // Transformed outside the lock: a concurrent first call transforms its own copy, and the
    // last one stored wins (both are the same floats).
    let made = PreparedWinogradFilters(
      WinogradFilters(
        weight: weight, algorithm: key.algorithm, outputs: key.outputs, inputs: key.inputs, flipped: false, mr: mr,
        threads: threads))
    locked { winograd[key] = made }
    return made
  }

  /// The filters as the GEMM's A (`K × C·KH·KW`, one group), packed from `weight` on first use.
  func packedWeight(plan: ConvolutionPlan, weight: UnsafePointer<Float>, kernel: GEMMKernel) -> PackedLeftOperand {
    if let found = locked({ packed }), found.kernel == kernel, found.rows == plan.outputChannels,
      found.depth == plan.window
    {
      return found
    }
    let made = PackedLeftOperand(weight, lda: plan.window, rows: plan.outputChannels, depth: plan.window, kernel: kernel)
    locked { packed = made }
    return made
  }

  private func locked<R>(_ body: () -> R) -> R {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return body()
  }
}

/// Transformed filters that free their storage when the last call using them is done.
final class PreparedWinogradFilters: @unchecked Sendable {
  let filters: WinogradFilters

  init(_ filters: WinogradFilters) { self.filters = filters }

  /// Positions × panels × C × MR.
  var floatCount: Int { filters.algorithm.positions * filters.panels * filters.inputs * filters.mr }

  deinit { filters.storage.deallocate() }
}
