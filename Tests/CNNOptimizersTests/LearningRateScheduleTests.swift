import CNNLayers
import CNNTensor
import Testing

@testable import CNNOptimizers

private func rates(_ schedule: LearningRateSchedule, epochs: ClosedRange<Int>) -> [Float] {
  epochs.map { schedule.learningRate(epoch: $0) }
}

private func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

@Suite struct LearningRateScheduleTests {
  @Test func stepDecay() {
    let schedule = LearningRateSchedule(baseLearningRate: 0.1, decay: .step(every: 2, factor: 0.5))
    #expect(close(rates(schedule, epochs: 1...6), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]))
  }

  @Test func exponentialDecay() {
    let schedule = LearningRateSchedule(baseLearningRate: 1, decay: .exponential(factor: 0.9))
    #expect(close(rates(schedule, epochs: 1...4), [1, 0.9, 0.81, 0.729]))
  }

  @Test func cosineDecayReachesTheMinimum() {
    let schedule = LearningRateSchedule(baseLearningRate: 1, decay: .cosine(epochs: 4, minimum: 0.2))
    // (1 + cos(π·e/4))/2 for e = 0…4: 1, 0.8536, 0.5, 0.1464, 0 → 0.2 + 0.8·that.
    #expect(close(rates(schedule, epochs: 1...6), [1, 0.882_843, 0.6, 0.317_157, 0.2, 0.2]))
  }

  @Test func warmupIsLinearPerStepAndComposes() {
    let warm = LearningRateSchedule(baseLearningRate: 1, decay: .constant, warmupEpochs: 2)
    let steps = (1...3).flatMap { epoch in (0..<2).map { warm.learningRate(epoch: epoch, batch: $0, batchesPerEpoch: 2) } }
    #expect(close(steps, [0.25, 0.5, 0.75, 1, 1, 1]))
    let both = LearningRateSchedule(baseLearningRate: 1, decay: .exponential(factor: 0.5), warmupEpochs: 2)
    #expect(close([both.learningRate(epoch: 1, batch: 0, batchesPerEpoch: 1), both.learningRate(epoch: 2, batch: 0, batchesPerEpoch: 1)], [0.5, 0.5]))
    #expect(close([both.learningRate(epoch: 3, batch: 0, batchesPerEpoch: 1)], [0.25]))
  }

  @Test func reduceOnPlateauWaitsForPatienceAndSavesItsState() {
    var schedule = LearningRateSchedule(
      baseLearningRate: 1, decay: .reduceOnPlateau(ReduceOnPlateau(factor: 0.5, patience: 1, minimum: 0.2)))
    var seen: [Float] = []
    for loss: Float in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95] {
      seen.append(schedule.learningRate(epoch: 1))
      schedule.endOfEpoch(loss: loss)
    }
    // Improves twice, then two bad epochs → ×0.5, two more → ×0.5, then held at the minimum 0.2.
    #expect(close(seen, [1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25]))
    #expect(close([schedule.learningRate(epoch: 1)], [0.2]))
    var restored = LearningRateSchedule(
      baseLearningRate: 1, decay: .reduceOnPlateau(ReduceOnPlateau(factor: 0.5, patience: 1, minimum: 0.2)))
    let accepted = restored.restoreState(schedule.stateDescription)
    #expect(accepted)
    #expect(restored == schedule)
    let refused = restored.restoreState("best=x")
    #expect(!refused)
  }

  @Test func parsesTheCommandLineSpelling() throws {
    let step = try LearningRateSchedule(parsing: "step=10,gamma=0.5,warmup=2", baseLearningRate: 0.1, epochs: 30)
    #expect(step.decay == .step(every: 10, factor: 0.5) && step.warmupEpochs == 2)
    let cosine = try LearningRateSchedule(parsing: "cosine", baseLearningRate: 0.1, epochs: 30)
    #expect(cosine.decay == .cosine(epochs: 30, minimum: 0))
    #expect(try LearningRateSchedule(parsing: cosine.description, baseLearningRate: 0.1, epochs: 5) == cosine)
    let plateau = try LearningRateSchedule(parsing: "plateau,patience=2,factor=0.5", baseLearningRate: 0.1, epochs: 30)
    #expect(try LearningRateSchedule(parsing: plateau.description, baseLearningRate: 0.1, epochs: 30) == plateau)
    #expect(try LearningRateSchedule(parsing: "warmup=3", baseLearningRate: 0.1, epochs: 30).decay == .constant)
    #expect(throws: ScheduleError.self) { try LearningRateSchedule(parsing: "linear", baseLearningRate: 0.1, epochs: 3) }
    #expect(throws: ScheduleError.self) { try LearningRateSchedule(parsing: "step", baseLearningRate: 0.1, epochs: 3) }
    #expect(throws: ScheduleError.self) { try LearningRateSchedule(parsing: "cosine,gamma=0.1", baseLearningRate: 0.1, epochs: 3) }
    #expect(throws: ScheduleError.self) { try LearningRateSchedule(parsing: "cosine,step=2", baseLearningRate: 0.1, epochs: 3) }
    // Parts with an empty name (the command-line fuzzer's find: "=" trapped).
    for text in ["=", "cosine,=", "=0.5"] {
      #expect(throws: ScheduleError.self, "\(text)") { try ScheduleSpecification(parsing: text) }
    }
  }

  @Test func gradientClippingScalesToTheGlobalNorm() {
    let a = Parameter(Tensor(shape: [2], scalars: [0, 0]))
    let b = Parameter(Tensor(shape: [1], scalars: [0]))
    a.gradient = Tensor(shape: [2], scalars: [3, 0])
    b.gradient = Tensor(shape: [1], scalars: [4])
    let norm = clipGradientNorm([a, b], maxNorm: 1)
    #expect(norm == 5)
    #expect(close(a.gradient.scalars + b.gradient.scalars, [0.6, 0, 0.8], tolerance: 1e-5))
    let untouched = clipGradientNorm([a, b], maxNorm: 10)
    #expect(abs(untouched - 1) < 1e-5)
    #expect(close(a.gradient.scalars + b.gradient.scalars, [0.6, 0, 0.8], tolerance: 1e-5))
  }

  @Test func weightDecayReachesEveryKind() {
    for kind in OptimizerKind.allCases {
      let optimizer = kind.make(learningRate: 0.1, weightDecay: 0.5)
      let p = Parameter(Tensor(shape: [1], scalars: [1]))
      p.gradient = Tensor(shape: [1], scalars: [0])
      optimizer.step([p])
      #expect(p.value.scalars[0] < 1, "\(kind) should shrink a parameter with zero gradient")
    }
  }
}
