// Process-wide memory behaviour that matters for speed.
import CCNNKernels

/// Tuning of the C allocator for training workloads.
package enum MemoryTuning {
  /// Asks the C allocator to keep large freed blocks for reuse, instead of returning them to
  /// the OS and taking fresh, zero-filled pages on the next step. On glibc this sets
  /// `M_MMAP_THRESHOLD` to 32 MiB (its maximum) and `M_TRIM_THRESHOLD` to 256 MiB; elsewhere it does nothing.
  /// `Trainer` and the `cnn` tool call it; calling it more than once is harmless.
  @discardableResult
  package static func reuseLargeAllocations() -> Bool {
    ccnn_reuse_large_allocations() == 1
  }
}
