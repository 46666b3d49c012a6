// parallelChunks and the worker pool under it: every range run once, with the documented
// bounds, across back-to-back jobs, jobs after the workers went to sleep, nested calls and
// calls from several threads at once (those fall back to Dispatch).
import CCNNKernels
import Dispatch
import Foundation
import Testing

@testable import CNNKernels

/// Per chunk: how many times it ran and the range it was given (a class so the concurrent
/// chunks can write their own slots).
private final class ChunkLog: @unchecked Sendable {
  var runs: [Int]
  var ranges: [Range<Int>?]
  init(_ chunks: Int) {
    runs = Array(repeating: 0, count: chunks)
    ranges = Array(repeating: nil, count: chunks)
  }
}

/// `ccnn_parallel_run` of `job(0) … job(chunks − 1)`: 1 when the pool took the job, else 0.
private func runOnPool(_ chunks: Int, _ job: inout (Int) -> Void) -> Int32 {
  withUnsafeMutablePointer(to: &job) { pointer in
    ccnn_parallel_run(chunks, { context, c in context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(c) }, pointer)
  }
}

/// Runs `parallelChunks(count, threads:)` and checks each range was run once and that they are
/// `count·c/chunks ..< count·(c+1)/chunks`.
private func checkOneCall(count: Int, threads: Int, _ label: String) {
  let chunks = max(1, min(threads, count))
  let log = ChunkLog(chunks)
  parallelChunks(count, threads: threads) { chunk, range in
    log.runs[chunk] += 1
    log.ranges[chunk] = range
  }
  if count == 0 {
    #expect(log.runs == [0], "\(label)")
    return
  }
  #expect(log.runs == Array(repeating: 1, count: chunks), "\(label): runs per chunk")
  let expected = (0..<chunks).map { c in count * c / chunks..<count * (c + 1) / chunks }
  #expect(log.ranges == expected, "\(label): ranges")
}

@Suite("parallelChunks")
struct ParallelChunksTests {
  @Test func everyRangeOnceAcrossManyBackToBackJobs() {
    for job in 0..<3000 {
      checkOneCall(count: job % 37, threads: 1 + job % 5, "job \(job)")
    }
  }

  @Test func jobsAfterTheWorkersSleep() {
    // The workers spin 2 ms after a job, then sleep: each job here finds them asleep.
    for job in 0..<5 {
      Thread.sleep(forTimeInterval: 0.01)
      checkOneCall(count: 64, threads: 4, "job \(job) after a pause")
    }
  }

  @Test func nestedCallsRunEveryInnerRange() {
    let outer = 4, inner = 5
    let log = ChunkLog(outer * inner)
    parallelChunks(outer, threads: outer) { o, _ in
      parallelChunks(inner, threads: inner) { i, range in
        log.runs[o * inner + i] += range.count
      }
    }
    #expect(log.runs == Array(repeating: 1, count: outer * inner))
  }

  @Test func callsFromSeveralThreadsAtOnce() {
    let callers = 6
    let sums = ChunkLog(callers)
    DispatchQueue.concurrentPerform(iterations: callers) { caller in
      var total = 0
      for job in 0..<300 {
        let log = ChunkLog(3)
        parallelChunks(90 + job % 7, threads: 3) { chunk, range in log.runs[chunk] = range.count }
        total += log.runs.reduce(0, +) - (90 + job % 7)
      }
      sums.runs[caller] = total
    }
    #expect(sums.runs == Array(repeating: 0, count: callers), "every job covered its items exactly")
  }

  // The pool takes two chunks only where the process has two CPUs.
  @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2))
  func thePoolRefusesASecondJobWhileBusy() {
    // From inside a pool job the pool is busy: ccnn_parallel_run returns 0 and runs nothing.
    // Other tests use the pool too, so the outer job is retried until the pool takes it.
    let answers = ChunkLog(2)
    var job: (Int) -> Void = { chunk in
      var inner: (Int) -> Void = { _ in answers.runs[chunk] += 100 }
      answers.runs[chunk] += Int(runOnPool(2, &inner))
      answers.ranges[chunk] = chunk..<chunk + 1
    }
    var taken = false
    for _ in 0..<10_000 where !taken {
      taken = runOnPool(2, &job) == 1
      if !taken { Thread.sleep(forTimeInterval: 0.001) }
    }
    #expect(taken, "the pool never became free")
    #expect(answers.ranges == [0..<1, 1..<2], "both chunks of the outer job ran")
    #expect(answers.runs == [0, 0], "each nested job was refused and ran nothing")
  }

  @Test func moreChunksThanCPUsAreLeftToDispatch() {
    // Spinning threads beyond the CPUs would take turns with the working ones: the pool
    // refuses, and parallelChunks still runs every range once (through Dispatch).
    let chunks = ProcessInfo.processInfo.activeProcessorCount + 1
    var job: (Int) -> Void = { _ in }
    let taken = runOnPool(chunks, &job)
    #expect(taken == 0)
    checkOneCall(count: 100, threads: chunks, "\(chunks) chunks")
  }
}
