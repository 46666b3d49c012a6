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
      shrinking), scaled to [0, 1] as in training, and the top classes are printed with their \
      probabilities. With --input X.safetensors --output Y.safetensors, runs the model on the \
      [N, C, H, W] batch stored under the key `input` and writes the logits under `output`.
      The checkpoint may be a plain PyTorch state_dict saved with safetensors.torch.save_file; \
      then --model names the architecture (and --input-shape the image size, for networks \
      sized by their input).
      """)

  @Option(help: "The checkpoint (.safetensors) to load.")
  var checkpoint: String

  @Option(help: "The network, when the checkpoint does not name it (a plain PyTorch state_dict).")
  var model: ModelName?

  @Option(help: "The image shape C×H×W the weights expect, when the checkpoint does not record it (e.g. 1x28x28).")
  var inputShape: String?

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
    if let inputShape, parseShape(inputShape) == nil {
      throw ValidationError("--input-shape must read C×H×W, e.g. 1x28x28 (got \(inputShape)).")
    }
  }

  func run() throws {
    if let output {
      try OutputGuard.check(
        output: output, inputs: [checkpoint] + [input].compactMap { $0 }, writing: .other, force: force,
        forceOption: "--force")
    }
    let loaded = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
    let (network, configuration) = try loaded.makeModelAndConfiguration(model, inputShape: inputShape.flatMap(parseShape))
    if let input, let output {
      try predictBatch(network, configuration: configuration, input: input, output: output)
      return
    }
    let shape = configuration.inputShape
    let names = loaded.classNames ?? (0..<configuration.classCount).map(String.init)
    for path in images {
      var image = try Image.read(from: path).converted(toChannels: shape[0])
      if invert { image.pixels = image.pixels.map { 255 - $0 } }
      let x = resized(image.tensor(), height: shape[1], width: shape[2])
      let probabilities = softmax(network(x).scalars)
      let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
      let text = ranked.map { "\(names[$0]) \(String(format: "%.1f%%", 100 * probabilities[$0]))" }
      print("\(path): " + text.joined(separator: ", "))
    }
  }

  private func predictBatch(_ network: any Layer, configuration: Checkpoint.ModelConfiguration, input: String, output: String) throws {
    let batch = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: input)).tensor(named: "input")
    guard batch.shape.rank == 4 else {
      throw ValidationError("The `input` tensor must be a batch [N, C, H, W], got \(batch.shape).")
    }
    // Check the shapes through the network first: a mismatch throws here instead of trapping.
    _ = try ModelSummary(of: network, inputShape: Shape(Array(batch.shape.dimensions.dropFirst())))
    let logits = network(batch)
    try SafeTensors.write(
      [("output", logits)], metadata: ["model": configuration.modelName.rawValue], to: URL(fileURLWithPath: output))
    print("\(input) \(batch.shape) → \(output) \(logits.shape)")
  }
}

/// `"1x28x28"` or `"1×28×28"` → `[1, 28, 28]`.
private func parseShape(_ text: String) -> Shape? {
  let parts = text.split { $0 == "x" || $0 == "×" || $0 == "," }.compactMap { Int($0) }
  guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { return nil }
  return Shape(parts)
}

/// Probabilities from logits, computed stably in `Double`.
private func softmax(_ logits: [Float]) -> [Double] {
  let largest = Double(logits.max() ?? 0)
  let exponentials = logits.map { Foundation.exp(Double($0) - largest) }
  let sum = exponentials.reduce(0, +)
  return exponentials.map { $0 / sum }
}

/// Resizes an image tensor `[1, C, H, W]` to `[1, C, height, width]` with a triangle
/// (bilinear) filter whose support widens with the reduction, as PIL's and torchvision's
/// antialiased bilinear resize do, so shrinking averages instead of skipping pixels.
private func resized(_ image: Tensor, height: Int, width: Int) -> Tensor {
  let (channels, inputHeight, inputWidth) = (image.shape[1], image.shape[2], image.shape[3])
  if inputHeight == height && inputWidth == width { return image }
  let rows = resampleWeights(from: inputHeight, to: height)
  let columns = resampleWeights(from: inputWidth, to: width)
  var result = [Float](repeating: 0, count: channels * height * width)
  let source = image.scalars
  for c in 0..<channels {
    // Horizontal pass, then vertical, in Double.
    var horizontal = [Double](repeating: 0, count: inputHeight * width)
    for y in 0..<inputHeight {
      for (x, taps) in columns.enumerated() {
        var sum = 0.0
        for (index, weight) in taps { sum += weight * Double(source[(c * inputHeight + y) * inputWidth + index]) }
        horizontal[y * width + x] = sum
      }
    }
    for (y, taps) in rows.enumerated() {
      for x in 0..<width {
        var sum = 0.0
        for (index, weight) in taps { sum += weight * horizontal[index * width + x] }
        result[(c * height + y) * width + x] = Float(sum)
      }
    }
  }
  return Tensor(shape: [1, channels, height, width], scalars: result)
}

/// For each output position, the input positions and normalised triangle-filter weights.
private func resampleWeights(from input: Int, to output: Int) -> [[(index: Int, weight: Double)]] {
  let scale = Double(input) / Double(output)
  let support = max(scale, 1)
  return (0..<output).map { i in
    let center = (Double(i) + 0.5) * scale
    let low = max(0, Int((center - support).rounded(.down)))
    let high = min(input, Int((center + support).rounded(.up)))
    var taps = (low..<high).map { j in (index: j, weight: max(0, 1 - abs(Double(j) + 0.5 - center) / support)) }
    let total = taps.reduce(0) { $0 + $1.weight }
    if total > 0 { taps = taps.map { ($0.index, $0.weight / total) } }
    return taps.filter { $0.weight > 0 }
  }
}
