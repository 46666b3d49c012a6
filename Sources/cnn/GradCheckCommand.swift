import ArgumentParser
import CNNKit

/// `cnn gradcheck`: the seeds' numerical gradient against backpropagation, per tensor.
struct GradCheck: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gradcheck",
    abstract: "Check backpropagation against numerical gradients, one row per parameter tensor.",
    discussion: """
      Runs a layer or a network on a small random input and compares each tensor's \
      backpropagated gradient with central differences (the seeds' numerical_gradient). Exits \
      1 if any tensor is WRONG. A single layer is checked entry by entry; when the input and \
      parameters exceed 8,192 entries (a network), each larger tensor is checked on --samples \
      entries: half where the backpropagated gradient is largest, half at random.
        cnn gradcheck --layer conv:in=3,out=4,k=3,s=1,p=1
        cnn gradcheck --layer maxpool:k=2,s=2 --input 2x6x6
        cnn gradcheck --model lenet5
        cnn gradcheck --model resnet18 --samples 4
      Layers (settings after ':', separated by ','; each has a default):
      \(LayerSpecification.accepted)
      --input is C×H×W (or F for linear, rbf and dropout) without the batch; a network uses its own \
      image shape (3x64x64 for the ImageNet networks) unless given one. Keep batch-normalized \
      maps at least 2×2 in the last layers: over two values per channel (resnet18 at 3x32x32, \
      batch 2) batch normalization is almost a sign function, and central differences report \
      errors the pullback does not have. Errors of 1e-2 to 1e-1 (suspicious) in deep ReLU \
      networks usually come from probes crossing a kink.
      """)

  @Option(help: "A network to check (e.g. lenet5).")
  var model: ModelName?

  @Option(help: "A layer to check, e.g. conv:in=3,out=4,k=3,s=1,p=1 or relu (see below).")
  var layer: String?

  @Option(help: "The input shape without the batch: C×H×W, or F for linear, rbf and dropout.")
  var input: String?

  @Option(help: "Images in the batch (1...8).")
  var batch: Int = 2

  @Option(help: "Entries compared per tensor when the check is sampled (1...4096).")
  var samples: Int = 32

  @Flag(help: "Compare every entry of every tensor (slow for networks).")
  var full = false

  @Option(help: "The central-difference step ε (1e-5...1e-1).")
  var epsilon: Float = 1e-3

  @Option(help: "The seed for the weights, the input and the sample.")
  var seed: UInt64 = 42

  func validate() throws {
    guard (model == nil) != (layer == nil) else {
      throw ValidationError("Give exactly one of --model NAME or --layer SPEC.")
    }
    guard (1...8).contains(batch) else { throw ValidationError("--batch must be in 1...8, got \(batch).") }
    guard (1...4096).contains(samples) else { throw ValidationError("--samples must be in 1...4096, got \(samples).") }
    guard epsilon >= 1e-5 && epsilon <= 1e-1 else {
      throw ValidationError("--epsilon must be in 1e-5...1e-1, got \(epsilon).")
    }
    if let layer {
      let specification = try parse(layer)
      _ = try layerInputShape(for: specification)
    }
    if let model { _ = try modelInputShape(for: model) }
  }

  func run() throws {
    var generator = SeededGenerator(seed: seed)
    let checked: any Layer
    let inputTensor: Tensor
    if let layer {
      let specification = try parse(layer)
      let shape = try layerInputShape(for: specification)
      checked = specification.makeLayer(using: &generator)
      inputTensor = specification.gradientCheckInput(batch: batch, shape: shape, using: &generator)
      print("Layer \(specification)")
    } else if let model {
      let shape = try modelInputShape(for: model)
      checked = model.make(inputShape: shape, classCount: model.defaultClassCount, using: &generator)
      inputTensor = .randomNormal(Shape([batch] + shape.dimensions), using: &generator)
      print("Model \(model.rawValue), \(checked.parameterCount) learned scalars in \(checked.namedParameters.count) tensors")
    } else {
      throw ValidationError("Give exactly one of --model NAME or --layer SPEC.")
    }
    let sampling =
      full ? .everything : GradientCheckSampling.automatic(for: checked, inputShape: inputTensor.shape, sampleSize: samples)
    var report: GradientCheckReport?
    let elapsed = ContinuousClock().measure {
      report = gradientCheckReport(of: checked, input: inputTensor, epsilon: epsilon, sampling: sampling, using: &generator)
    }
    guard let report else { return }
    print(report, terminator: "")
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    print("Checked in \((seconds * 10).rounded() / 10) s.")
    if report.verdict == .wrong { throw ExitCode(1) }
  }

  private func parse(_ text: String) throws -> LayerSpecification {
    do {
      return try LayerSpecification(parsing: text)
    } catch {
      throw ValidationError("--layer \(text): \(error)")
    }
  }

  /// `--input`, or the layer's default; refused when the layer cannot take it.
  private func layerInputShape(for specification: LayerSpecification) throws -> Shape {
    var shape = specification.defaultInputShape
    if let input {
      guard let parsed = LayerSpecification.inputShape(parsing: input, maximum: 64, maximumCount: 4096) else {
        throw ValidationError(
          "--input must be F or C×H×W (e.g. 8 or 3x6x6), each size 1...64 and at most 4096 values, got '\(input)'.")
      }
      shape = parsed
    }
    var weights = SeededGenerator(seed: 0)  // the layer is built only to ask its output shape
    let layer = specification.makeLayer(using: &weights)
    do {
      _ = try layer.outputShape(for: Shape([batch] + shape.dimensions))
    } catch {
      throw ValidationError("--input \(shape) does not fit \(specification): \(error)")
    }
    return shape
  }

  /// `--input`, or the network's image shape (3×64×64 for the ImageNet networks).
  private func modelInputShape(for model: ModelName) throws -> Shape {
    var shape: Shape = model.isSizedByInput ? model.defaultInputShape : [3, 64, 64]
    if let input {
      guard let parsed = Shape(parsingImageShape: input, maximum: 256) else {
        throw ValidationError("--input must be C×H×W (e.g. 1x28x28), each size 1...256, got '\(input)'.")
      }
      shape = parsed
    }
    var generator = SeededGenerator(seed: 0)
    do {
      _ = try ModelSummary(model: model, inputShape: shape, using: &generator)
    } catch {
      throw ValidationError("--input \(shape) does not fit \(model.rawValue): \(error)")
    }
    return shape
  }
}
