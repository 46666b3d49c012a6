@testable import CNNKernels
import Testing

@Suite struct MemoryTuningTests {
  /// On glibc the settings must reach `mallopt`. (The C file once tested `__GLIBC__` before
  /// including any libc header, so it never did, and every training step paid page faults.)
  @Test func glibcAcceptsTheSettings() {
    #if canImport(Glibc)
      #expect(MemoryTuning.reuseLargeAllocations())
    #else
      #expect(!MemoryTuning.reuseLargeAllocations())
    #endif
  }
}
