extension TrainingEvent {
  /// The event as one JSON object, `event` first, keys in snake_case:
  /// `{"event":"epoch","epoch":3,"train_loss":0.12,"train_accuracy":0.96,"test_accuracy":0.97,"seconds":0.8}`.
  public var jsonLine: JSONLine {
    var line = JSONLine()
    switch self {
    case .started(let start):
      line.append("event", "started")
      line.append("model", start.model)
      line.append("parameters", start.parameterCount)
      line.append("train_samples", start.trainingSamples)
      line.append("test_samples", start.testSamples)
      line.append("epochs", start.epochs)
      line.append("batch_size", start.batchSize)
      line.append("batches_per_epoch", start.batchesPerEpoch)
      line.append("optimizer", start.optimizer)
      line.append("learning_rate", start.learningRate)
      line.append("seed", start.seed.map { JSONLine.Value.string(String($0)) } ?? .null)
      line.append("augmentation", start.augmentation)
      line.append("schedule", start.schedule)
    case .batch(let progress):
      line.append("event", "batch")
      line.append("epoch", progress.epoch)
      line.append("batch", progress.batch)
      line.append("batches", progress.batchesPerEpoch)
      line.append("loss", progress.loss)
      line.append("images_per_second", progress.imagesPerSecond.rounded())
    case .epoch(let summary):
      line.append("event", "epoch")
      line.append("epoch", summary.epoch)
      line.append("train_loss", summary.trainLoss)
      line.append("train_accuracy", summary.trainAccuracy)
      line.append("test_loss", summary.testLoss)
      line.append("test_accuracy", summary.testAccuracy)
      line.append("seconds", (summary.seconds * 1000).rounded() / 1000)
      line.append("evaluation_seconds", (summary.evaluationSeconds * 1000).rounded() / 1000)
      line.append("images_per_second", summary.imagesPerSecond.rounded())
    case .finished(let result):
      line.append("event", "finished")
      line.append("epochs", result.epochs.count)
      line.append("test_accuracy", result.finalTestAccuracy)
      line.append("training_seconds", (result.trainingSeconds * 1000).rounded() / 1000)
      line.append("total_seconds", (result.totalSeconds * 1000).rounded() / 1000)
      if let stop = result.stop {
        line.append("stopped", stop.kind)
        line.append("message", stop.problem)
        line.append("hint", stop.hint)
      }
    }
    return line
  }
}
