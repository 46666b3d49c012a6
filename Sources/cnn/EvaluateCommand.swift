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

  @Option(help: "The checkpoint (.safetensors) to evaluate.")
  var checkpoint: String

  @Option(help: "The network, when the checkpoint does not name it (a plain PyTorch state_dict).")
  var model: ModelName?

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
    guard batchSize > 0 else { throw CommandError("--batch-size must be at least 1 (got \(batchSize)).") }
    if let limit, limit < 1 { throw CommandError("--limit must be at least 1 (got \(limit)).") }
  }

  func run() throws {
    let loaded = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
    let extra = loaded.training?.extra ?? [:]
    let (training, test) = try data.source(saved: extra).load()
    var dataset = split == .test ? test : training
    if let limit { dataset = dataset.prefix(limit) }
    let imageShape: Shape = [dataset.channels, dataset.height, dataset.width]
    let (network, configuration) = try loaded.makeModelAndConfiguration(model, inputShape: imageShape)
    guard configuration.inputShape == imageShape else {
      throw CommandError(
        "\(checkpoint) was trained on \(configuration.inputShape) images but the data has \(imageShape).\n"
          + "---> HINT: pass the --dataset and --data-dir it was trained on.")
    }
    do {
      _ = try ModelSummary(of: network, inputShape: imageShape)
    } catch {
      throw CommandError("The network does not fit the data's images: \(error.description).")
    }
    guard configuration.classCount == dataset.classCount else {
      throw CommandError(
        "\(checkpoint) predicts \(configuration.classCount) classes but the data has \(dataset.classCount).\n"
          + "---> HINT: pass the --dataset it was trained on.")
    }
    let normalization = try extra["normalization"].map { text in
      guard let value = Normalization(parsing: text) else {
        throw CommandError("\(checkpoint): the saved normalization '\(text)' cannot be read.")
      }
      return value
    }
    let report = ClassificationReport(
      model: network, dataset: dataset, batchSize: batchSize, normalization: normalization)
    if json {
      print(report.json)
    } else {
      print("\(configuration.modelName.rawValue) on the \(split.rawValue) split: \(dataset.count) images, "
        + "\(dataset.classCount) classes\(normalization == nil ? "" : ", normalised as in training")")
      print(report.text, terminator: "")
    }
  }
}
