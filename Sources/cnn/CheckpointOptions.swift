import ArgumentParser
import CNNKit
import Foundation

/// `--checkpoint` and `--model`, shared by the commands that use a trained model
/// (`evaluate`, `predict`), restored through `RestoredModel` so none can skip a step of the
/// model's preprocessing.
struct CheckpointOptions: ParsableArguments {
  @Option(help: "The checkpoint (.safetensors) written by `cnn train --checkpoint` (or a PyTorch state_dict, with --model).")
  var checkpoint: String

  @Option(help: "The network, when the checkpoint does not name it (a plain PyTorch state_dict).")
  var model: ModelName?

  /// The model with its shape, class names and normalization.
  func restore(inputShape: Shape? = nil) throws -> RestoredModel {
    try RestoredModel(contentsOf: URL(fileURLWithPath: checkpoint), model: model, inputShape: inputShape)
  }
}
