// Process-wide memory behaviour that matters for speed.
import CCNNKernels

/// Tuning of the C allocator for training workloads.
package enum MemoryTuning {
  /// Asks the C allocator to keep large freed blocks for reuse, instead of returning them to
  /// the OS and taking fresh, zero-filled pages on the next step. On glibc this sets
  /// `M_MMAP_THRESHOLD` to 32 MiB (its maximum), `M_MMAP_MAX` to 0 (larger blocks come from
  /// the heap too) and `M_TRIM_THRESHOLD` to 1 GiB; elsewhere it does nothing.
  /// `Trainer` and the `cnn` tool call it; calling it more than once is harmless.
  /// - Returns: Whether the allocator was tuned: true on glibc when it accepted every
  ///   setting, false elsewhere.
  @discardableResult
  package static func reuseLargeAllocations() -> Bool {
    ccnn_reuse_large_allocations() == 1
  }
}
