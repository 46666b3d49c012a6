import CNNLayers
import CNNModels
import CNNTensor

extension TrainingSession {
  /// The first batch-norm layer of `model` that sees 1×1 maps at `inputShape` (ResNet's last
  /// stage on 32×32 images), or `nil`. Such a layer normalizes each channel over the batch
  /// alone, so it cannot train on a batch of one image: its statistics would be over a single
  /// value (PyTorch refuses the same: "Expected more than 1 value per channel when training").
  public static func batchNormOnSingleValues(in model: any Layer, inputShape: Shape) -> String? {
    guard let summary = try? ModelSummary(of: model, inputShape: inputShape) else { return nil }
    return summary.rows.first { row in
      row.kind.hasPrefix("BatchNorm") && row.outputShape.rank == 3 && row.outputShape[1] * row.outputShape[2] == 1
    }?.name
  }

  /// Makes `configuration` trainable by `model` when a batch-norm layer sees 1×1 maps: a batch
  /// size of 1 is refused, and a last batch of one image is left out of every epoch (as
  /// `dropLastBatch` does), with a note saying so.
  /// - Throws: `RunError.invalidConfiguration` for a batch size of 1.
  static func fitBatchesToBatchNorm(
    _ configuration: inout RunConfiguration, model: any Layer, trainingImages: Int, notes: inout [String]
  ) throws(RunError) {
    guard let layer = batchNormOnSingleValues(in: model, inputShape: configuration.imageShape) else { return }
    let size = configuration.inputShape.map(String.init).joined(separator: "×")
    let reason =
      "\(configuration.model.rawValue)'s batch normalization \(layer) sees 1×1 maps on \(size) images "
      + "(it needs at least 2 images per training batch)"
    if configuration.batchSize < 2 || trainingImages < 2 {
      throw .invalidConfiguration(["\(reason): use a batch size of 2 or more, and at least 2 training images"])
    }
    if !configuration.dropLastBatch, trainingImages % configuration.batchSize == 1 {
      configuration.dropLastBatch = true
      notes.append(
        "The last batch of each epoch would hold 1 of the \(trainingImages) images, and \(reason): that image is "
          + "left out of each epoch, as --drop-last does (a different one each epoch, as the order is shuffled).")
    }
  }
}

extension TrainingSession {
  /// Makes `configuration` trainable on `ranks` ranks, each taking its share of every batch
  /// (`Batches.sharded(rank:of:)`, shares of `⌊n/ranks⌋` or one more): batch norm synchronised
  /// across ranks needs at least 1 image in every share (a rank without one would skip the
  /// step the others wait in), batch norm per rank on 1×1 maps at least 2. A batch size too
  /// small for that is refused; a last batch too small is left out of each epoch, with a note.
  /// - Throws: `RunError.invalidConfiguration`.
  static func fitBatchesToRanks(
    _ configuration: inout RunConfiguration, model: any Layer, trainingImages: Int, ranks: Int,
    synchronizedBatchNorm: Bool, notes: inout [String]
  ) throws(RunError) {
    guard ranks > 1 else { return }
    let perRank: Int
    let reason: String
    if synchronizedBatchNorm, hasBatchNorm(model, inputShape: configuration.imageShape) {
      perRank = 1
      reason = "batch norm synchronised over \(ranks) ranks needs an image on every rank in every step"
    } else if let layer = batchNormOnSingleValues(in: model, inputShape: configuration.imageShape) {
      perRank = 2
      reason =
        "\(configuration.model.rawValue)'s batch normalization \(layer) sees 1×1 maps and runs per rank, so every "
        + "rank needs at least 2 images of each batch"
    } else {
      return
    }
    let smallest = perRank * ranks
    guard configuration.batchSize >= smallest, trainingImages >= smallest else {
      throw .invalidConfiguration(
        ["\(reason): use a batch size (the global one) of at least \(smallest), and at least \(smallest) training images"])
    }
    let last = trainingImages % configuration.batchSize
    if !configuration.dropLastBatch, last > 0, last < smallest {
      configuration.dropLastBatch = true
      notes.append(
        "The last batch of each epoch would hold \(last) of the \(trainingImages) images over \(ranks) ranks, and "
          + "\(reason): it is left out of each epoch, as --drop-last does.")
    }
  }

  /// Whether `model` has a batch normalization layer (at `inputShape`).
  static func hasBatchNorm(_ model: any Layer, inputShape: Shape) -> Bool {
    guard let summary = try? ModelSummary(of: model, inputShape: inputShape) else { return false }
    return summary.rows.contains { $0.kind.hasPrefix("BatchNorm") }
  }
}
