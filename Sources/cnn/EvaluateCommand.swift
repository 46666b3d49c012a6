import ArgumentParser
import CNNKit
import Foundation

/// `cnn evaluate`: a trained checkpoint's accuracy, per-class accuracy, top-5 accuracy and
/// confusion matrix on a whole dataset split.
struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Evaluate a checkpoint on a whole test set: accuracy, per class, top-5, confusion matrix.",
    discussion: """
      Loads the checkpoint (a CNNKit checkpoint, or a plain PyTorch state_dict with --model), then \
      evaluates every image of the split, not a sample, unless --limit asks for fewer. The data \
      defaults to the dataset the checkpoint was trained on, and pixels are normalised as in \
      its training.
      """)

  @OptionGroup var source: CheckpointOptions

  @OptionGroup var data: DatasetOptions

  @Option(help: "Which split to evaluate: test or train.")
  var split: Split = .test

  @Option(help: "Evaluate only the first N images of the split.")
  var limit: Int?

  @Option(help: "Images per forward pass (does not change the result).")
  var batchSize: Int = 100

  @Flag(help: "Write the report as one JSON object on standard output.")
  var json = false

  enum Split: String, CaseIterable, ExpressibleByArgument { case test, train }

  func validate() throws {
    guard RunLimits.batchSize.contains(batchSize) else {
      throw ValidationError("--batch-size must be in 1…\(RunLimits.batchSize.upperBound) (got \(batchSize)).")
    }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1 (got \(limit)).") }
  }

  func run() throws {
    let restored = try source.restore()
    let (training, test) = try restored.data(data.specification(saved: restored.run?.dataset))
    var dataset = split == .test ? test : training
    if let limit { dataset = dataset.prefix(limit) }
    try restored.checkFits(dataset)
    let report = ClassificationReport(
      model: restored.model, dataset: dataset, batchSize: batchSize, normalization: restored.normalization)
    if json {
      print(report.json)
    } else {
      print("\(restored.modelName.rawValue) on the \(split.rawValue) split: \(dataset.count) images, "
        + "\(dataset.classCount) classes\(restored.normalization == nil ? "" : ", normalised as in training")")
      print(report.text, terminator: "")
    }
  }
}
