import CNNData
import CNNKernels
import CNNLayers
import CNNTensor
import CNNTraining
import CNNVisualization
import Foundation

/// Computes the dashboard's views of a model: every layer's activations for one image, the
/// first convolution's filters, parameter statistics and the sample images' top-3 classes.
///
/// It only reads the model (inference mode), so it runs between two training steps on the
/// training thread, or on a model that is not training.
public struct SnapshotMaker {
  public let model: any Layer
  /// The fixed test images (at most 24): the first is the one whose activations are shown.
  public let samples: Dataset?
  /// The normalization the model trains with, applied after scaling pixels to `[0, 1]`.
  public let normalization: Normalization?
  /// Largest number of maps drawn per layer.
  public var maxMaps = 32

  /// - Parameters:
  ///   - test: The test split; `sampleCount` images spread evenly over it become the samples.
  public init(model: any Layer, test: Dataset?, normalization: Normalization?, sampleCount: Int = 16) {
    self.model = model
    self.normalization = normalization
    if let test, test.count > 0 {
      let count = min(sampleCount, test.count)
      let step = test.count / count
      self.samples = Self.subset(test, indices: (0..<count).map { $0 * step })
      self.sampleIndices = (0..<count).map { $0 * step }
    } else {
      self.samples = nil
      self.sampleIndices = []
    }
  }

  /// Where each sample sits in the test split.
  public let sampleIndices: [Int]

  static func subset(_ data: Dataset, indices: [Int]) -> Dataset {
    let size = data.pixelsPerImage
    var pixels: [UInt8] = []
    pixels.reserveCapacity(indices.count * size)
    for index in indices { pixels += data[index].pixels }
    return Dataset(
      images: pixels, labels: indices.map { data.labels[$0] }, channels: data.channels, height: data.height,
      width: data.width, classNames: data.classNames)
  }

  /// The sample images as PNGs, once.
  public func sampleImages() -> SampleImages {
    guard let samples else { return SampleImages(samples: []) }
    return SampleImages(
      samples: (0..<samples.count).map { i in
        let image = Self.image(samples[i].pixels, channels: samples.channels, height: samples.height, width: samples.width)
        return .init(
          index: sampleIndices[i], label: samples.labels[i],
          image: DashboardMessage.dataURL(image: image.scaled(by: max(1, 56 / max(1, samples.height)))))
      })
  }

  /// A dataset's planar `[C, H, W]` bytes as an image (interleaved pixels).
  static func image(_ planar: ArraySlice<UInt8>, channels: Int, height: Int, width: Int) -> Image {
    let plane = height * width, start = planar.startIndex
    var pixels = [UInt8](repeating: 0, count: planar.count)
    for c in 0..<channels {
      for p in 0..<plane { pixels[p * channels + c] = planar[start + c * plane + p] }
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
  }

  /// `images` (`[N, C, H, W]` in `[0, 1]`) as the model sees them.
  func prepared(_ images: Tensor) -> Tensor { normalization?.applied(to: images) ?? images }

  /// Every layer's output for one prepared image `[1, C, H, W]`, and the model's output.
  ///
  /// A `Sequential` model shows each of its layers; any other shows its convolution stages
  /// (``FeatureMaps``) and then its output.
  public func activations(for input: Tensor) -> (activations: [Snapshot.Activation], logits: Tensor) {
    var result: [Snapshot.Activation] = []
    var x = input
    if let sequence = model as? Sequential {
      for (index, layer) in sequence.layers.enumerated() {
        x = layer(x)
        result.append(encode(x, name: "\(index)", kind: "\(type(of: layer))"))
      }
    } else {
      let (stages, output) = FeatureMaps.trace(model, input: input)
      result = stages.map { encode($0.maps, name: $0.name, kind: $0.description) }
      x = output
      result.append(encode(x, name: "output", kind: "output"))
    }
    return (result, x)
  }

  /// One output as tiles (`[1, K, H, W]`) or values (`[1, F]`).
  func encode(_ output: Tensor, name: String, kind: String) -> Snapshot.Activation {
    var activation = Snapshot.Activation(name: name, kind: kind, shape: output.shape.dimensions)
    if output.shape.rank == 4 && output.shape[2] * output.shape[3] > 1 {
      // Small tiles, 16 to a row, as ConvNetJS draws them: maps of 24×24 at their own size,
      // smaller maps scaled up to at least 24 pixels.
      let grid = FeatureMaps.grid(output, minimumSide: 24, maxMaps: maxMaps, columns: 16)
      activation.image = DashboardMessage.dataURL(image: grid)
    } else {
      activation.values = output.scalars.prefix(256).map { ($0 * 1000).rounded() / 1000 }
    }
    return activation
  }

  /// The first convolution's filters as tiles.
  public func filters() -> Snapshot.Filters? {
    guard let (name, weight) = FilterGrid.convolutionWeights(in: model).first else { return nil }
    var grid = FilterGrid(weights: weight, scale: max(2, 40 / max(1, weight.shape[3])))
    grid.maxFilters = 64
    grid.maxChannels = 8
    return .init(name: name, shape: weight.shape.dimensions, image: DashboardMessage.dataURL(image: grid.image()))
  }

  /// The samples' three likeliest classes.
  public func predictions() -> [Snapshot.Prediction] {
    guard let samples else { return [] }
    let batch = samples.batch(indices: 0..<samples.count)
    let probabilities = Self.softmax(model(prepared(batch.images)))
    return probabilities.enumerated().map { row, p in
      let top = Array(p.indices.sorted { p[$0] > p[$1] }.prefix(3))
      return .init(
        index: sampleIndices[row], label: samples.labels[row], top: top,
        probabilities: top.map { (p[$0] * 1000).rounded() / 1000 })
    }
  }

  /// The snapshot of the model now: activations of the first sample, filters, predictions, and
  /// the statistics measured by `statistics`.
  public func snapshot(epoch: Int, batch: Int, statistics: [Snapshot.ParameterStatistics]) -> Snapshot {
    let start = ContinuousClock.now
    let cpuStart = Self.threadCPUSeconds()
    var activations: [Snapshot.Activation] = []
    if let samples {
      activations = self.activations(for: prepared(samples.batch(indices: 0..<1).images)).activations
    }
    let predictions = predictions()
    let filters = filters()
    let milliseconds = (ContinuousClock.now - start).seconds * 1000
    let cpuMilliseconds = (Self.threadCPUSeconds() - cpuStart) * 1000
    return Snapshot(
      epoch: epoch, batch: batch, activations: activations, filters: filters, statistics: statistics,
      predictions: predictions, milliseconds: (milliseconds * 10).rounded() / 10,
      cpuMilliseconds: (cpuMilliseconds * 10).rounded() / 10)
  }

  /// CPU time of the calling thread (the kernels' helper threads are not counted).
  static func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
  }

  /// The prediction and activations for a drawing: `pixels` are `C·H·W` values in `[0, 1]`.
  public func predict(pixels: [Float], shape: [Int]) -> DrawingPrediction {
    let input = prepared(Tensor(shape: Shape([1] + shape), scalars: pixels))
    let (activations, logits) = self.activations(for: input)
    let probabilities = Self.softmax(logits).first ?? []
    return DrawingPrediction(probabilities: probabilities.map { ($0 * 1000).rounded() / 1000 }, activations: activations)
  }

  /// The confusion matrix of the model on `test` (at most `limit` images).
  public func confusion(on test: Dataset, epoch: Int, limit: Int = 2000) -> ConfusionSnapshot {
    let data = test.count > limit ? test[0..<limit] : test
    var predicted: [Int] = []
    predicted.reserveCapacity(data.count)
    let preparation = BatchPreparation(normalization: normalization)
    for batch in BatchLoader(data.batches(size: 200), preparation: preparation, prefetch: 0) {
      predicted += model(batch.images).argmaxRows()
    }
    let matrix = ConfusionMatrix(labels: data.labels, predictions: predicted, classNames: data.classNames)
    return ConfusionSnapshot(epoch: epoch, classNames: matrix.classNames, counts: matrix.counts, images: data.count)
  }

  /// Row-wise softmax of `[N, K]` logits, computed stably.
  static func softmax(_ logits: Tensor) -> [[Float]] {
    guard logits.shape.rank == 2 else { return [] }
    let classes = logits.shape[1]
    return (0..<logits.shape[0]).map { row in
      let values = logits.scalars[(row * classes)..<((row + 1) * classes)]
      let largest = values.max() ?? 0
      let exponentials = values.map { Foundation.exp(Double($0 - largest)) }
      let sum = exponentials.reduce(0, +)
      return exponentials.map { Float($0 / sum) }
    }
  }
}

/// Statistics of parameters and of one step's update, measured in two halves: the gradients
/// and the weights before the step (``capture(_:)``, from the trainer's gradient inspector),
/// then the weights after it (``finish()``).
public struct ParameterWatch {
  let names: [String]
  let parameters: [Parameter]
  var before: [(weights: Tensor, gradientMean: Float, gradientStd: Float)] = []

  public init(model: any Layer) {
    let named = model.namedParameters
    names = named.map(\.name)
    parameters = named.map(\.parameter)
  }

  /// Records the gradients and keeps the weights (copy-on-write: the optimizer's update makes
  /// the copy) before a step.
  public mutating func capture(_ stepped: [Parameter]) {
    before = parameters.map { parameter in
      let (mean, std) = Self.moments(parameter.gradient)
      return (parameter.value, mean, std)
    }
  }

  /// Whether ``capture(_:)`` has run since the last ``finish()``.
  public var hasCapture: Bool { !before.isEmpty }

  /// The statistics, once the step has updated the weights.
  public mutating func finish() -> [Snapshot.ParameterStatistics] {
    defer { before = [] }
    guard before.count == parameters.count else { return [] }
    return parameters.indices.map { i in
      let now = parameters[i].value
      let (mean, std) = Self.moments(now)
      var update = 0.0, norm = 0.0
      now.withUnsafeBufferPointer { w in
        before[i].weights.withUnsafeBufferPointer { old in
          for j in 0..<min(w.count, old.count) {
            let d = Double(w[j] - old[j])
            update += d * d
            norm += Double(old[j]) * Double(old[j])
          }
        }
      }
      return .init(
        name: names[i], weightMean: mean, weightStd: std, gradientMean: before[i].gradientMean,
        gradientStd: before[i].gradientStd, updateRatio: norm > 0 ? Float((update / norm).squareRoot()) : 0)
    }
  }

  static func moments(_ tensor: Tensor) -> (mean: Float, std: Float) {
    tensor.withUnsafeBufferPointer { values in
      guard !values.isEmpty else { return (0, 0) }
      var sum = 0.0, squares = 0.0
      for v in values {
        sum += Double(v)
        squares += Double(v) * Double(v)
      }
      let mean = sum / Double(values.count)
      return (Float(mean), Float(max(0, squares / Double(values.count) - mean * mean).squareRoot()))
    }
  }
}
