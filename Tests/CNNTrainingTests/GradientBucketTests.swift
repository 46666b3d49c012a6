import CNNLayers
import CNNModels
import CNNTensor
import Testing

@testable import CNNTraining

/// Two ranks of which this is rank 0, the other holding the same gradients: every sum doubles
/// its values. Started sums are only doubled in ``finishSums()``, as a non-blocking sum only
/// has its result when waited for; the log records the order of everything.
private final class MirrorContext: DistributedContext {
  let rank = 0
  let size = 2
  var log: [String] = []
  private var started: [UnsafeMutableBufferPointer<Float>] = []

  func sum(_ values: UnsafeMutableBufferPointer<Float>) {
    for i in values.indices { values[i] *= 2 }
    log.append("sum \(values.count)")
  }

  func sum(_ values: UnsafeMutableBufferPointer<Double>) {
    for i in values.indices { values[i] *= 2 }
  }

  func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) {}

  func startSum(_ values: UnsafeMutableBufferPointer<Float>) {
    started.append(values)
    log.append("start \(values.count)")
  }

  func finishSums() {
    for values in started {
      for i in values.indices { values[i] *= 2 }
    }
    started = []
    log.append("finish")
  }
}

/// Gradient buckets and their overlap with the backward pass (`GradientBuckets`,
/// `DataParallel.runBackward`).
@Suite struct GradientBucketTests {
  /// A stem, a residual block (a `LayerChain` inside a `Residual`, as in ResNet) and a head.
  static func network() -> Sequential {
    var g = SeededGenerator(seed: 7)
    return Sequential {
      Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1, bias: false, using: &g)
      BatchNorm2D(featureCount: 8)
      ReLU()
      Residual(body: ResNet.BasicBranch(inputChannels: 8, channels: 8, stride: 1, using: &g), activation: ReLU())
      GlobalAvgPool2D()
      Flatten()
      Linear(inputFeatures: 8, outputFeatures: 10, using: &g)
    }
  }

  static let images: Tensor = {
    var generator = SeededGenerator(seed: 3)
    return Tensor.randomNormal([2, 3, 6, 6], using: &generator)
  }()
  static let labels = [1, 7]

  /// The gradients of one forward and backward pass on `images`, in `model.parameters` order.
  static func gradients(of model: Sequential, backward: (() -> Void) -> Void = { $0() }) -> [[Float]] {
    model.zeroGradients()
    let (logits, pullback) = model.forward(images, needsInputGradient: false)
    let (_, dLogits) = softmaxCrossEntropy(logits: logits, labels: labels)
    backward { _ = pullback(dLogits) }
    return model.parameters.map(\.gradient.scalars)
  }

  /// One step of rank 0 of two, with buckets of 100 floats: its half of the batch (2 of 4
  /// images) forward and backward, the backward pass `observed` by the `DataParallel` or not
  /// (as on a rank with no images), then the gradients averaged; "backward over" is logged in
  /// between.
  fileprivate static func averagedStep(of model: Sequential, observed: Bool) -> (MirrorContext, DataParallel) {
    let context = MirrorContext()
    let parallel = DataParallel(context: context, bucketBytes: 400)
    parallel.broadcastState(of: model)
    parallel.beginStep(localCount: 2, globalCount: 4)
    _ = gradients(of: model) { backward in observed ? parallel.runBackward(backward) : backward() }
    context.log.append("backward over")
    parallel.averageGradients(model.parameters, localCount: 2, globalCount: 4)
    return (context, parallel)
  }

  @Test func bucketsFollowTheParametersBackwardUpToTheirCapacity() {
    let model = Self.network()
    let parameters = model.parameters
    let buckets = GradientBuckets(parameters, capacity: 100)
    // Reverse order, each parameter in exactly one bucket, none split.
    #expect(buckets.buckets.flatMap(\.parameters).map(ObjectIdentifier.init) == parameters.reversed().map(ObjectIdentifier.init))
    #expect(buckets.floatCount == model.parameterCount)
    for bucket in buckets.buckets {
      let sizes = bucket.parameters.map(\.gradient.scalarCount)
      #expect(bucket.count == sizes.reduce(0, +))
      // Over capacity only when a single parameter is larger than it.
      #expect(bucket.count <= 100 || sizes.count == 1, "\(sizes)")
    }
    // The head's bias (10) and weight (80) and the last batch norm's bias (8) fill the first
    // bucket (its weight would make 106); the 3×3 convolutions' 576 weights have buckets of
    // their own.
    #expect(buckets.buckets[0].parameters.map(\.gradient.scalarCount) == [10, 80, 8])
    #expect(buckets.buckets.filter { $0.count == 576 }.count == 2)
  }

  /// Every bucket starts before the backward pass is over (the stem's, when the stem's
  /// convolution has finished), and the averaged gradients are the one-process gradients
  /// exactly: this rank's half, times n_r/B = 1/2, summed with the other rank's equal half.
  @Test func everyBucketStartsDuringTheBackwardPassAndTheAverageIsExact() {
    let model = Self.network()
    let expected = Self.gradients(of: model)
    let (context, parallel) = Self.averagedStep(of: model, observed: true)

    let bucketCount = GradientBuckets(model.parameters, capacity: 100).buckets.count
    let starts = context.log.prefix { $0 != "backward over" }.filter { $0.hasPrefix("start") }
    #expect(starts.count == bucketCount, "\(context.log)")
    #expect(starts.first == "start 98", "the head's bucket first: \(context.log)")
    #expect(context.log.suffix(2) == ["backward over", "finish"], "\(context.log)")
    #expect(parallel.bucketsStartedEarly == bucketCount)
    #expect(model.parameters.map(\.gradient.scalars) == expected)
  }

  /// Without the observer (a rank whose share of the batch is empty runs no backward pass) all
  /// buckets start, in the same order, when the gradients are averaged.
  @Test func bucketsNotStartedDuringTheBackwardPassStartAfterIt() {
    let model = Self.network()
    let expected = Self.gradients(of: model)
    let (context, parallel) = Self.averagedStep(of: model, observed: false)
    let bucketCount = GradientBuckets(model.parameters, capacity: 100).buckets.count
    #expect(context.log.first == "backward over")
    #expect(context.log.filter { $0.hasPrefix("start") }.count == bucketCount)
    #expect(context.log.dropFirst().first == "start 98")
    #expect(parallel.bucketsStartedEarly == 0)
    #expect(model.parameters.map(\.gradient.scalars) == expected)

    // A second step begins afresh: its buckets start during its own backward pass.
    parallel.beginStep(localCount: 2, globalCount: 4)
    _ = Self.gradients(of: model) { backward in parallel.runBackward(backward) }
    parallel.averageGradients(model.parameters, localCount: 2, globalCount: 4)
    #expect(parallel.bucketsStartedEarly == bucketCount)
    #expect(model.parameters.map(\.gradient.scalars) == expected)
  }
}
