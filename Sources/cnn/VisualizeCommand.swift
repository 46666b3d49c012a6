import ArgumentParser
import CNNKit
import Foundation

/// `cnn visualize`: pictures of a network and its training.
struct Visualize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Draw a network's filters, feature maps, training curves or confusion matrix.",
    discussion: """
      Pictures are PNG (filters, activations; confusion too with a .png name) or SVG (curves, \
      confusion), written by CNNKit itself (PNG compressed by the system zlib): no Python or ImageMagick. Open them in \
      any browser or image viewer.
      """,
    subcommands: [Filters.self, Activations.self, Curves.self, Confusion.self, Augment.self])
}

// MARK: - The network to draw

/// Where the network comes from: a checkpoint, or a freshly initialised model.
struct ModelSource: ParsableArguments {
  @Option(help: "A checkpoint (.safetensors) written by `cnn train --checkpoint`.")
  var checkpoint: String?

  @Option(help: "The network: with --checkpoint, only for a plain PyTorch state_dict; alone, an untrained network (\(ModelName.allCases.map(\.rawValue).joined(separator: ", "))).")
  var model: ModelName?

  @Option(help: "Seed for the initial weights of an untrained --model.")
  var seed: UInt64 = 42

  func validate() throws {
    if checkpoint == nil && model == nil {
      throw ValidationError(
        "Give --checkpoint FILE (a trained network) or --model NAME (an untrained one), e.g. --model simple-convnet.")
    }
  }

  /// The network with everything needed to feed it (shape, class names, normalization), and
  /// a description for messages.
  func load() throws -> (restored: RestoredModel, origin: String) {
    try Self.load(checkpoint: checkpoint, model: model, seed: seed)
  }

  /// `load()` for options parsed elsewhere. (A `ModelSource` built with `init()` and filled in
  /// by assignment does not work: ArgumentParser stops with "Can't read a value from a
  /// parsable argument definition".)
  static func load(checkpoint: String?, model: ModelName?, seed: UInt64) throws -> (restored: RestoredModel, origin: String) {
    if let checkpoint {
      let restored = try RestoredModel(contentsOf: URL(fileURLWithPath: checkpoint), model: model)
      let epochs = restored.checkpoint.training.map { ", \($0.epochsCompleted) epoch\($0.epochsCompleted == 1 ? "" : "s")" } ?? ""
      return (restored, "\(restored.modelName.rawValue) from \(checkpoint)\(epochs)")
    }
    let name = model ?? .simpleConvNet
    var generator = SeededGenerator(seed: seed)
    let network = name.make(inputShape: name.defaultInputShape, classCount: name.defaultClassCount, using: &generator)
    let untrained = Checkpoint(
      model: network, modelName: name, inputShape: name.defaultInputShape, classCount: name.defaultClassCount)
    let origin = "\(name.rawValue), untrained (seed \(seed))"
    return (try RestoredModel(checkpoint: untrained, source: origin), origin)
  }
}

/// The sublayers of the model zoo's `LayerChain`s (ResNet and friends), in the order they
/// run and named as in the layer tree, so `FeatureMaps.trace` can look inside them.
func chainChildren(_ layer: any Layer) -> [(name: String, layer: any Layer)]? {
  (layer as? any LayerChain)?.namedChain
}

/// A problem found while drawing (printed as `Error: …`, without the usage text).
struct PictureError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Writes `image` as PNG, or says which extensions work.
func writePicture(_ image: Image, to path: String) throws {
  guard path.lowercased().hasSuffix(".png") else {
    throw PictureError("\(path): this picture is written as PNG; name the output file …png.")
  }
  try image.reducedToGreyIfPossible().write(to: path)
  print("wrote \(path) (\(image.width)×\(image.height))")
}

extension TrainingCurves {
  /// The curves of a finished or running `Trainer.fit`: `cnn train --plot` draws
  /// `TrainingCurves(summaries: result.epochs).svg()`.
  init(summaries: [EpochSummary], subtitle: String? = nil) {
    self.init(
      epochs: summaries.map { summary in
        Epoch(
          epoch: summary.epoch, trainLoss: Double(summary.trainLoss),
          trainAccuracy: Double(summary.sampleTrainAccuracy ?? summary.trainAccuracy),
          testLoss: summary.testLoss.map(Double.init), testAccuracy: summary.testAccuracy.map(Double.init))
      }, subtitle: subtitle)
  }
}

// MARK: - Subcommands

extension Visualize {
  /// `cnn visualize activations`.
  struct Activations: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Draw the feature maps of every convolution layer for one image (PNG).",
      discussion: """
        Runs the network on the image and draws each convolution's output (after its batch \
        norm and activation, when they follow directly), each map normalised on its own. The \
        image is converted to the network's channels and resized to its input size. Without \
        --image, the first test digit of the bundled MNIST sample is used.
        """)

    @OptionGroup var source: ModelSource

    @Option(help: "A PNG, PGM or PPM image (default: the first digit of the bundled MNIST test sample).")
    var image: String?

    @Option(help: "The most maps drawn per layer.")
    var maxMaps: Int = 64

    @Flag(help: "Write one file per layer (OUTPUT-<layer>.png) instead of one stacked picture.")
    var separate = false

    @Option(name: [.short, .long], help: "The PNG file to write.")
    var output: String

    func validate() throws {
      guard maxMaps >= 1 else { throw ValidationError("--max-maps must be at least 1 (got \(maxMaps)).") }
      try checkOutputName(output, option: "--output", extensions: ["png"], content: "feature maps are drawn as PNG")
    }

    func run() throws {
      let (restored, origin) = try source.load()
      let (shape, classNames) = (restored.inputShape, restored.classNames)
      var picture: Image
      var trueLabel: String?
      if let image {
        picture = try Image.read(from: image)
      } else {
        let test = try MNIST.bundledSample().test
        let sample = test[0]
        picture = Image(width: 28, height: 28, channels: 1, pixels: Array(sample.pixels))
        trueLabel = test.classNames.indices.contains(sample.label) ? test.classNames[sample.label] : "\(sample.label)"
      }
      let input = restored.input(from: picture)  // normalized as in training
      picture = picture.converted(toChannels: shape[0]).resized(width: shape[2], height: shape[1])
      let (activations, logits) = FeatureMaps.trace(restored.model, input: input, children: chainChildren)
      guard !activations.isEmpty else { throw PictureError("\(origin) has no convolution layers to show.") }
      var prediction: [String] = []
      var predictedName: String?
      if logits.shape.rank == 2, logits.shape[1] == classNames.count {
        let probabilities = restored.probabilities(for: input)[0]
        let predicted = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
        predictedName = classNames[predicted]
        prediction.append("predicted: \(classNames[predicted]) (\((probabilities[predicted] * 100).formatted(1))%)")
      }
      if let trueLabel { prediction.append("label: \(trueLabel)") }
      if separate {
        let base = output.lowercased().hasSuffix(".png") ? String(output.dropLast(4)) : output
        for activation in activations {
          let name = activation.name.isEmpty ? "conv" : activation.name.replacingOccurrences(of: ".", with: "-")
          try writePicture(FeatureMaps.grid(activation.maps, maxMaps: maxMaps), to: "\(base)-\(name).png")
        }
      } else {
        try writePicture(
          FeatureMaps.picture(input: picture, activations: activations, maxMaps: maxMaps, title: origin, prediction: prediction),
          to: output)
      }
      let dead = activations.reduce(0) { sum, activation in
        let shape = activation.maps.shape
        guard shape[2] * shape[3] > 1 else { return sum }
        return sum + (0..<shape[1]).filter { FeatureMaps.isDead(activation.maps, index: $0) }.count
      }
      if let predictedName {
        print("\(origin): \(activations.count) convolution stages, \(dead) dead maps; predicted class \(predictedName)")
      }
    }
  }

  /// `cnn visualize curves`.
  struct Curves: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Draw loss and accuracy per epoch from a training log (SVG).",
      discussion: """
        The log is the output of `cnn train --json` (one JSON object per line):
          cnn train --json > run.jsonl
          cnn visualize curves --log run.jsonl -o curves.svg
        """)

    @Option(help: "The JSON-lines log written by `cnn train --json`.")
    var log: String

    @Option(name: [.short, .long], help: "The SVG file to write.")
    var output: String

    func validate() throws {
      try checkOutputName(output, option: "--output", extensions: ["svg"], content: "curves are written as SVG")
    }

    func run() throws {
      let curves = try TrainingCurves.read(from: log)
      try curves.svg().write(to: output)
      print("wrote \(output) (\(curves.epochs.count) epoch\(curves.epochs.count == 1 ? "" : "s"))")
    }
  }

  /// `cnn visualize confusion`.
  struct Confusion: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Draw a confusion matrix with its counts (SVG or PNG).",
      discussion: """
        Either evaluates a network on a test set (a --checkpoint on the data it was trained on, \
        an untrained --model on the bundled MNIST sample, or --dataset/--data-dir), normalised \
        as in training, or draws a matrix saved as JSON (--matrix FILE, as written by \
        --save-json or `cnn evaluate --json`): {"class_names": [...], "matrix": [[...], ...]}, rows the true classes.
        """)

    @Option(help: "A checkpoint (.safetensors) to evaluate.")
    var checkpoint: String?

    @Option(help: "The network: with --checkpoint, only for a plain state_dict; alone, an untrained network.")
    var model: ModelName?

    @Option(help: "Seed for the initial weights of an untrained --model.")
    var seed: UInt64 = 42

    @OptionGroup var data: DatasetOptions

    @Option(help: "Evaluate only the first N test images.")
    var limit: Int?

    @Option(help: "Draw this JSON matrix (from --save-json or `cnn evaluate --json`) instead of evaluating a network.")
    var matrix: String?

    @Option(help: "Also save the matrix as JSON here.")
    var saveJSON: String?

    @Option(name: [.short, .long], help: "The picture to write: .svg (vector, browser) or .png.")
    var output: String

    func validate() throws {
      if matrix == nil && checkpoint == nil && model == nil {
        throw ValidationError("Give --checkpoint FILE or --model NAME to evaluate, or --matrix FILE.json to draw.")
      }
      if matrix != nil && (checkpoint != nil || model != nil) {
        throw ValidationError("--matrix draws a saved matrix; leave out --checkpoint and --model.")
      }
      if let limit, limit < 1 { throw ValidationError("--limit must be at least 1 (got \(limit)).") }
      try checkOutputName(
        output, option: "--output", extensions: ["svg", "png"], content: "a confusion matrix is drawn as SVG or PNG")
    }

    func run() throws {
      let confusion: ConfusionMatrix
      var title = "Confusion matrix"
      if let matrix {
        confusion = try ConfusionMatrix.read(from: matrix)
      } else {
        let (restored, origin) = try ModelSource.load(checkpoint: checkpoint, model: model, seed: seed)
        let saved = checkpoint == nil ? DatasetSpecification.mnistSample : restored.run?.dataset
        var test = try restored.data(data.specification(saved: saved)).test
        if let limit { test = test.prefix(limit) }
        try restored.checkFits(test)
        let report = ClassificationReport(model: restored.model, dataset: test, normalization: restored.normalization)
        confusion = ConfusionMatrix(classNames: test.classNames, counts: report.confusion)
        title = origin.components(separatedBy: " from ").first ?? origin
        print("\(origin): \(confusion.correct) of \(confusion.total) test images correct")
      }
      if output.lowercased().hasSuffix(".svg") {
        try confusion.svg(title: title).write(to: output)
        print("wrote \(output)")
      } else {
        try writePicture(confusion.image(), to: output)
      }
      if let saveJSON {
        try Data(confusion.json.utf8).write(to: URL(fileURLWithPath: saveJSON))
        print("wrote \(saveJSON)")
      }
    }
  }
}

extension Visualize {
  /// `cnn visualize augment`.
  struct Augment: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Draw training images next to augmented copies of them (PNG).",
      discussion: """
        One row per class (its first training image): the original, then copies augmented as \
        `cnn train --augment` would, each with its own random draw.
          cnn visualize augment --augment flip,crop=4,brightness=0.3,contrast=0.3 -o augment.png
          cnn visualize augment --dataset cifar10 --data-dir cifar-10-batches-bin --augment flip,crop=4 -o cifar.png
        """)

    @OptionGroup var data: DatasetOptions

    @Option(help: "The augmentations, as for `cnn train --augment`: flip, crop=P, brightness=B, contrast=C, scale=S, comma-separated.")
    var augment: AugmentationPipeline

    @Option(help: "Rows: one image of each of the first N classes.")
    var samples: Int = 10

    @Option(help: "Augmented copies per image.")
    var copies: Int = 7

    @Option(help: "Seed for the augmentations' random draws.")
    var seed: UInt64 = 42

    @Option(help: "Pixels per image pixel (default: images about 56 pixels tall).")
    var scale: Int?

    @Option(name: [.short, .long], help: "The PNG file to write.")
    var output: String

    func validate() throws {
      guard (1...100).contains(samples), (1...30).contains(copies) else {
        throw ValidationError("--samples must be 1 to 100 and --copies 1 to 30.")
      }
      if let scale, !(1...16).contains(scale) { throw ValidationError("--scale must be 1 to 16 (got \(scale)).") }
      try checkOutputName(output, option: "--output", extensions: ["png"], content: "the grid is drawn as PNG")
    }

    func run() throws {
      let pipeline = augment
      let training = try data.specification.load().training
      var firstOfClass: [Int: Int] = [:]
      for (index, label) in training.labels.enumerated() where firstOfClass[label] == nil { firstOfClass[label] = index }
      let chosen = firstOfClass.sorted { $0.key < $1.key }.prefix(samples).map(\.value)
      guard !chosen.isEmpty else { throw PictureError("The training set is empty.") }
      var generator = SeededGenerator(seed: seed)
      let preparation = BatchPreparation(augmentation: pipeline)
      let rows = chosen.map { index -> (label: String, images: [Image]) in
        let original = training.batch(indices: [index]).images
        let augmented = training.batch(
          indices: [Int](repeating: index, count: copies), preparation: preparation, using: &generator
        ).images
        let plane = training.pixelsPerImage
        let copiesAsImages = (0..<copies).map { copy in
          Image(tensor: Tensor(
            shape: [1, training.channels, training.height, training.width],
            scalars: Array(augmented.scalars[(copy * plane)..<((copy + 1) * plane)])))
        }
        let label = training.labels[index]
        let name = training.classNames.indices.contains(label) ? training.classNames[label] : String(label)
        return (name, [Image(tensor: original)] + copiesAsImages)
      }
      let pixelScale = scale ?? max(1, (56 + training.height - 1) / training.height)
      let titles = ["input"] + (1...copies).map { "#\($0)" }
      try writePicture(SampleGrid.picture(rows: rows, columnTitles: titles, scale: pixelScale), to: output)
      print("\(chosen.count) images, \(copies) copies each, augmented with \(pipeline)")
    }
  }
}
