import ArgumentParser
import CNNKit
import Foundation

extension Train {
  /// A new run: the model's recipe, with each option given replacing its part.
  func newSession() throws -> TrainingSession {
    let specification = data.specification
    let name = model ?? .simpleConvNet
    if let size = specification.imageSize {
      // Before every image is resized: the smallest run these options allow must fit in memory.
      try TrainingSession.checkMemory(
        model: name, inputShape: [specification.channels ?? 1, size.height, size.width], classCount: 2,
        batchSize: batchSize ?? 1)
    }
    let (training, test) = try specification.load()
    var run = RunConfiguration.recipe(for: name, dataset: specification, training: training)
    let recipeOptimizer = run.optimizer
    if let optimizer, optimizer != recipeOptimizer.kind {
      // Another optimizer starts from its own usual rate, not the recipe's rate for the recipe's optimizer.
      run.optimizer = OptimizerSettings(kind: optimizer)
    }
    run.optimizer = OptimizerSettings(
      kind: run.optimizer.kind, learningRate: learningRate ?? run.optimizer.learningRate,
      weightDecay: weightDecay, clipNorm: clipNorm)
    if let epochs { run.epochs = epochs }
    if let batchSize { run.batchSize = batchSize }
    if let initialization { run.initialization = initialization }
    if let seed { run.seed = seed }
    if let threads { run.threads = threads }
    if let augment { run.augmentation = augment }
    if let schedule { run.schedule = schedule }
    if let stopAtChance { run.stopAtChance = stopAtChance }
    if let evalSample { run.evaluationSample = evalSample }
    run.dropLastBatch = dropLast
    if normalize { run.normalization = Normalization.measured(on: training) }
    return try TrainingSession(configuration: run, training: training, test: test)
  }

  /// The run saved at `path`, continued; options that contradict it are refused by name.
  func resumedSession(from path: String) throws -> TrainingSession {
    let checkpoint = try Checkpoint.load(from: URL(fileURLWithPath: path))
    guard let saved = checkpoint.run, checkpoint.training != nil else { throw RunError.nothingToResume(path) }
    try refuseConflicts(with: saved)
    guard let specification = data.specification(saved: saved.dataset) else { throw RunError.nothingToResume(path) }
    let (training, test) = try specification.load()
    return try TrainingSession(
      resuming: checkpoint, epochs: epochs, threads: threads, training: training, test: test, source: path)
  }

  /// Throws for the first option that defines the run and differs from the saved run's value.
  /// Options equal to the saved values are accepted; `--epochs`, `--threads` and the outputs
  /// apply to the continued run.
  func refuseConflicts(with saved: RunConfiguration) throws {
    func conflict<T: Equatable>(_ option: String, _ given: T?, _ value: T, _ describe: (T) -> String) throws {
      if let given, given != value {
        throw RunError.conflictsWithResumedRun(option: option, given: describe(given), saved: describe(value))
      }
    }
    let plain: (CustomStringConvertible) -> String = { $0.description }
    try conflict("--model", model, saved.model) { $0.rawValue }
    try conflict("--optimizer", optimizer, saved.optimizer.kind) { $0.rawValue }
    try conflict("--learning-rate", learningRate, saved.optimizer.learningRate, plain)
    try conflict("--weight-decay", weightDecay, saved.optimizer.weightDecay, plain)
    try conflict("--clip-norm", clipNorm, saved.optimizer.clipNorm ?? 0) { $0 == 0 ? "no clipping" : "\($0)" }
    try conflict("--batch-size", batchSize, saved.batchSize, plain)
    try conflict("--augment", augment, saved.augmentation) { $0.isEmpty ? "none" : $0.description }
    try conflict("--schedule", schedule, saved.schedule, plain)
    if let initialization, initialization != saved.initialization {
      throw RunError.conflictsWithResumedRun(
        option: "--init", given: initialization.description,
        saved: saved.initialization?.description ?? "the model's own initialisation")
    }
    try conflict("--seed", seed, saved.seed, plain)
    try conflict("--stop-at-chance", stopAtChance, saved.stopAtChance, plain)
    if let evalSample, evalSample != saved.evaluationSample {
      throw RunError.conflictsWithResumedRun(
        option: "--eval-sample", given: "\(evalSample)",
        saved: saved.evaluationSample.map { "a sample of \($0)" } ?? "the whole test set")
    }
    if normalize && saved.normalization == nil {
      throw RunError.conflictsWithResumedRun(option: "--normalize", given: "normalization", saved: "no normalization")
    }
    if dropLast && !saved.dropLastBatch {
      throw RunError.conflictsWithResumedRun(option: "--drop-last", given: "dropping", saved: "keeping the last batch")
    }
    if data.dataset != nil || data.imageSize != nil || data.channels != nil {
      let given = data.specification
      if given.kind != saved.dataset.kind || given.imageSize != saved.dataset.imageSize
        || (given.channels != nil && given.channels != saved.dataset.channels)
      {
        throw RunError.conflictsWithResumedRun(
          option: "--dataset", given: given.summary, saved: saved.dataset.summary)
      }
    }
  }
}
