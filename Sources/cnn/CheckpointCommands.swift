import ArgumentParser
import CNNKit
import Foundation

/// `cnn predict`: classifies images, or a batch tensor, with a checkpoint's model.
struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Classify images with a trained checkpoint.",
    discussion: """
      Each PNG (or PGM/PPM) image is converted to the model's channels (colour to grey by \
      luma, grey copied to RGB), resized to the model's input size (bilinear, antialiased when \
      shrinking), scaled to [0, 1] and normalised as in training, and the top classes are printed with their \
      probabilities. With --input X.safetensors --output Y.safetensors, runs the model on the \
      [N, C, H, W] batch stored under the key `input` and writes the logits under `output`.
      The checkpoint may be a plain PyTorch state_dict saved with safetensors.torch.save_file; \
      then --model names the architecture (and --input-shape the image size, for networks \
      sized by their input).
      """)

  @OptionGroup var source: CheckpointOptions

  @Option(help: "The image shape C×H×W the weights expect, each size 1 to 1048576, when the checkpoint does not record it (e.g. 1x28x28).")
  var inputShape: ImageShape?

  @Option(help: "A safetensors file holding a batch [N, C, H, W] under the key `input`.")
  var input: String?

  @Option(help: "Where to write the logits [N, classes], under the key `output` (with --input).")
  var output: String?

  @Option(help: "How many classes to print for each image.")
  var top: Int = 5

  @Flag(help: "Invert the grey levels first (for dark digits on a light background; MNIST's are light on dark).")
  var invert = false

  @Flag(help: "Let --output replace a CNNKit checkpoint.")
  var force = false

  @Argument(help: "PNG, PGM or PPM images to classify.")
  var images: [String] = []

  func validate() throws {
    guard top >= 1 else { throw ValidationError("--top must be at least 1 (got \(top)).") }
    if (input == nil) != (output == nil) { throw ValidationError("--input and --output go together.") }
    if input == nil && images.isEmpty { throw ValidationError("Give images to classify, or --input and --output.") }
    if input != nil && !images.isEmpty { throw ValidationError("Give either images or --input/--output, not both.") }
  }

  func run() throws {
    if let output {
      try OutputGuard.check(
        output: output, inputs: [source.checkpoint] + [input].compactMap { $0 }, writing: .other, force: force,
        forceOption: "--force")
    }
    let restored = try source.restore(inputShape: inputShape?.shape)
    if let input, let output {
      try predictBatch(restored, input: input, output: output)
      return
    }
    for path in images {
      let probabilities = restored.probabilities(for: restored.input(from: try Image.read(from: path), invert: invert))[0]
      let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
      let text = ranked.map { "\(restored.classNames[$0]) \(String(format: "%.1f%%", 100 * probabilities[$0]))" }
      print("\(path): " + text.joined(separator: ", "))
    }
  }

  /// Runs the model on a stored batch. The batch is taken as the model's input as it is: no
  /// scaling or normalization is added.
  private func predictBatch(_ restored: RestoredModel, input: String, output: String) throws {
    let network = restored.model
    let batch = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: input)).tensor(named: "input")
    guard batch.shape.rank == 4 else {
      throw ValidationError("The `input` tensor must be a batch [N, C, H, W], got \(batch.shape).")
    }
    // Check the shapes through the network first: a mismatch throws here instead of trapping.
    _ = try ModelSummary(of: network, inputShape: Shape(Array(batch.shape.dimensions.dropFirst())))
    let logits = network(batch)
    try SafeTensors.write(
      [("output", logits)], metadata: ["model": restored.modelName.rawValue], to: URL(fileURLWithPath: output))
    print("\(input) \(batch.shape) → \(output) \(logits.shape)")
  }
}
