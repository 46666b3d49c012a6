import Dispatch
import Testing

@testable import CNNKernels

/// `ComputeThreads.withCount` gives code its own thread count without changing the process's:
/// a training session used to assign the process-wide count, so a session started by one test
/// changed how another test's running session split its sums, and resumed runs came out a
/// last bit different (`TrainingSessionTests.interruptedRunResumesExactly`, 1 run in 3).
/// These tests never assign the process's count, which other tests run with.
@Suite struct ComputeThreadsTests {
  @Test func aScopedCountHoldsInsideAndNestsAndEnds() {
    let process = ComputeThreads.count
    ComputeThreads.withCount(3) {
      #expect(ComputeThreads.count == 3)
      ComputeThreads.withCount(1) { #expect(ComputeThreads.count == 1) }
      #expect(ComputeThreads.count == 3)
    }
    #expect(ComputeThreads.withCount(0) { ComputeThreads.count } == 1, "at least one thread")
    #expect(ComputeThreads.count == process)
  }

  /// Another thread's scope is its own: two threads each see the count they asked for while
  /// both scopes are open at once.
  @Test func scopesOnOtherThreadsDoNotMix() {
    let group = DispatchGroup()
    // Each thread writes its own slot, read after both have finished.
    final class Slots: @unchecked Sendable { var first = 0, second = 0 }
    let seen = Slots()
    let barrier = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    for (slot, threads) in [(0, 5), (1, 9)] {
      DispatchQueue.global().async(group: group) {
        ComputeThreads.withCount(threads) {
          barrier.signal()
          release.wait()
          if slot == 0 { seen.first = ComputeThreads.count } else { seen.second = ComputeThreads.count }
        }
      }
    }
    barrier.wait()
    barrier.wait()
    release.signal()
    release.signal()
    group.wait()
    #expect([seen.first, seen.second] == [5, 9])
  }
}
