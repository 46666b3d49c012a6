// Thread-level parallelism for the kernels: a fixed number of workers, one chunk each.
import CCNNKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How many threads the kernels use. Defaults to the number of active processors;
/// set `CNN_THREADS` in the environment, or assign `ComputeThreads.count`, to change it for the
/// whole process, or run code under ``withCount(_:_:)`` to change it for that code alone.
public enum ComputeThreads {
  /// The number of worker threads kernels split their work across (at least 1): the count of
  /// the innermost ``withCount(_:_:)`` running on this thread or task, else the process's.
  /// Assigning it sets the process's.
  public static var count: Int {
    get { scoped ?? processCount }
    set { processCount = newValue }
  }

  /// Runs `body` with ``count`` at `threads` on this thread or task, whatever other threads
  /// set meanwhile: a training session runs under its own thread count, so that sessions in
  /// one process (tests running in parallel, an app training two models) do not change each
  /// other's sums, which depend on how the work is split.
  public static func withCount<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
    try $scoped.withValue(max(1, threads), operation: body)
  }

  @TaskLocal private static var scoped: Int?
  private nonisolated(unsafe) static var processCount: Int = defaultCount()

  private static func defaultCount() -> Int {
    if let text = getenv("CNN_THREADS"), let value = Int(String(cString: text)), value > 0 {
      return value
    }
    return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }
}

/// Splits `0..<count` into at most `threads` contiguous ranges and runs `body` on each,
/// in parallel, returning when all are done. Runs inline when one range suffices.
///
/// The ranges go to a pool of worker threads that spin between parallel sections
/// (`ccnn_parallel_run`); a call made while the pool is busy (from inside a range, or from
/// another thread at the same time), or one with more ranges than the process has CPUs, uses
/// Dispatch instead. Either way the ranges are the same, so the results do not depend on
/// which thread ran which range.
///
/// - Parameters:
///   - count: The number of work items.
///   - threads: The most ranges to split into.
///   - body: Called once per range, possibly concurrently; `chunk` is the range's index.
@inlinable
public func parallelChunks(
  _ count: Int, threads: Int = ComputeThreads.count,
  _ body: (_ chunk: Int, _ range: Range<Int>) -> Void
) {
  let chunks = max(1, min(threads, count))
  if chunks == 1 {
    if count > 0 { body(0, 0..<count) }
    return
  }
  withoutActuallyEscaping(body) { body in
    // The chunks write disjoint data; the caller guarantees `body` is safe to run concurrently.
    nonisolated(unsafe) let body = body
    nonisolated(unsafe) let run = { (chunk: Int) in
      let start = count * chunk / chunks
      let end = count * (chunk + 1) / chunks
      body(chunk, start..<end)
    }
    if !runOnWorkerPool(chunks, run) {
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in run(chunk) }
    }
  }
}

/// Runs `run(0) … run(chunks − 1)` on the worker pool; false, having run nothing, when the
/// pool is busy.
@usableFromInline
func runOnWorkerPool(_ chunks: Int, _ run: (Int) -> Void) -> Bool {
  withoutActuallyEscaping(run) { run in
    var job = run
    return withUnsafeMutablePointer(to: &job) { pointer in
      ccnn_parallel_run(
        chunks,
        { context, chunk in context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(chunk) },
        pointer) != 0
    }
  }
}
