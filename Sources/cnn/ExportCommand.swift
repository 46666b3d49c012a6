import ArgumentParser
import CNNKit
import Foundation

/// `cnn export`: writes a checkpoint's weights alone, as a PyTorch `state_dict` file.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a checkpoint's weights alone (no optimizer state), ready for PyTorch's load_state_dict.",
    discussion: """
      A `cnn train --checkpoint` file also holds the optimizer's state (keys `optimizer.…`) and \
      what resuming needs. The exported file keeps the model's parameters and buffers under \
      their nn.Module names and the metadata naming the model, its input shape and classes, so \
      `cnn predict` and `cnn evaluate` read it, and in PyTorch
        model.load_state_dict(safetensors.torch.load_file("weights.safetensors"))
      loads it with strict=True into the equivalent module. The file is written atomically.
        cnn export --checkpoint run.safetensors -o weights.safetensors
      """)

  @Option(help: "The checkpoint (.safetensors) to read.")
  var checkpoint: String

  @Option(name: [.customShort("o"), .long], help: "Where to write the weights (.safetensors).")
  var output: String

  @Flag(help: "Let --output replace a checkpoint that holds training state.")
  var force = false

  func validate() throws {
    try checkOutputName(
      output, option: "--output", extensions: ["safetensors"], content: "the weights are written as safetensors")
    guard URL(fileURLWithPath: output).standardizedFileURL != URL(fileURLWithPath: checkpoint).standardizedFileURL
    else {
      throw ValidationError("--output is the checkpoint itself; pick another file so the checkpoint is kept.")
    }
  }

  func run() throws {
    try OutputGuard.check(output: output, inputs: [checkpoint], writing: .weights, force: force, forceOption: "--force")
    let full = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
    // Build the model and load every tensor strictly: missing, extra or mis-shaped keys are refused here.
    _ = try RestoredModel(checkpoint: full, source: checkpoint)
    let droppedStateTensors = full.training?.optimizerState.count ?? 0
    let loaded = full.weightsOnly
    try loaded.write(to: URL(fileURLWithPath: output))
    let scalarCount = loaded.tensors.reduce(0) { $0 + $1.tensor.scalarCount }
    print(
      "\(output): \(loaded.tensors.count) tensors (\(scalarCount.grouped) numbers) of \(loaded.modelName?.rawValue ?? "the model")"
        + (droppedStateTensors > 0 ? "; left out \(droppedStateTensors) optimizer state tensors" : ""))
  }
}
