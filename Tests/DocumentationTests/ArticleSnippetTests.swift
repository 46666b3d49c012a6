import CNNKit
import Foundation
import Testing

// The code samples of the DocC articles (Sources/CNNKit/CNNKit.docc) and of README.md, each
// inside a test function verbatim, so that a sample that no longer compiles fails the build
// and one that no longer computes what its article says fails its test.
// `SnippetsAppearVerbatimTests` checks that every sample still appears here word for word.

@Suite struct ArticleSnippetTests {
  // MARK: - Convolution and its output size

  @Test func convolutionWorkedExample() throws {
    var rng = SeededGenerator(seed: 0)
    let conv = Conv2D(inputChannels: 1, outputChannels: 1, kernelSize: 3, bias: false, using: &rng)
    conv.weight.value = Tensor(shape: [1, 1, 3, 3], scalars: [1, 0, 1, 0, 1, 0, 1, 0, 1])
    let image = Tensor(shape: [1, 1, 5, 5], scalars: [
      1, 1, 1, 0, 0,
      0, 1, 1, 1, 0,
      0, 0, 1, 1, 1,
      0, 0, 1, 1, 0,
      0, 1, 1, 0, 0,
    ])
    let feature = conv(image)
    print(feature.shape, feature.scalars)   // [1, 1, 3, 3] [4, 3, 4, 2, 4, 3, 2, 3, 4]
    #expect(feature.shape == [1, 1, 3, 3])
    #expect(feature.scalars == [4, 3, 4, 2, 4, 3, 2, 3, 4])
  }

  @Test func convolutionOutputSize() throws {
    let geometry = ConvGeometry(
      batch: 1, inputChannels: 1, inputHeight: 28, inputWidth: 28, kernelHeight: 4, kernelWidth: 4,
      strideHeight: 2, strideWidth: 2, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1)
    print(geometry.outputHeight, geometry.outputWidth)   // 14 14: (28 + 2·1 − 4) / 2 + 1 = 14

    var rng = SeededGenerator(seed: 1)
    let layer = Conv2D(inputChannels: 1, outputChannels: 64, kernelSize: 4, stride: 2, padding: 1, using: &rng)
    print(try layer.outputShape(for: [100, 1, 28, 28]))   // [100, 64, 14, 14]
    print(layer.parameterCount)                          // 1088 = 4·4·1·64 + 64
    #expect(geometry.outputHeight == 14 && geometry.outputWidth == 14)
    #expect(try layer.outputShape(for: [100, 1, 28, 28]) == [100, 64, 14, 14])
    #expect(layer.parameterCount == 1_088)
  }

  // MARK: - im2col

  @Test func im2colUnrollsWindows() throws {
    let geometry = ConvGeometry(
      batch: 1, inputChannels: 1, inputHeight: 3, inputWidth: 3, kernelHeight: 2, kernelWidth: 2)
    let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let rows = geometry.batch * geometry.outputHeight * geometry.outputWidth   // N·OH·OW = 4
    let columns = geometry.inputChannels * 2 * 2                                // C·KH·KW = 4
    var matrix = [Float](repeating: 0, count: rows * columns)
    input.withUnsafeBufferPointer { x in
      matrix.withUnsafeMutableBufferPointer { m in
        if let x = x.baseAddress, let m = m.baseAddress { im2col(input: x, columns: m, geometry: geometry) }
      }
    }
    print(matrix)   // [1, 2, 4, 5,  2, 3, 5, 6,  4, 5, 7, 8,  5, 6, 8, 9]: one window per row

    var folded = [Float](repeating: 0, count: input.count)
    matrix.withUnsafeBufferPointer { m in
      folded.withUnsafeMutableBufferPointer { x in
        if let m = m.baseAddress, let x = x.baseAddress { col2im(columns: m, input: x, geometry: geometry) }
      }
    }
    print(folded)   // [1, 4, 3, 8, 20, 12, 7, 16, 9]: each pixel times the windows that saw it
    #expect(matrix == [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9])
    #expect(folded == [1, 4, 3, 8, 20, 12, 7, 16, 9])
  }

  // MARK: - Pooling

  @Test func poolingForwardAndBackward() throws {
    let x = Tensor(shape: [1, 1, 4, 4], scalars: [
      1, 2, 1, 0,
      0, 1, 2, 3,
      3, 0, 1, 2,
      2, 4, 0, 1,
    ])
    let pools: [any Layer] = [
      MaxPool2D(kernelSize: 2, stride: 2), AvgPool2D(kernelSize: 2, stride: 2), MinPool2D(kernelSize: 2, stride: 2),
    ]
    for pool in pools {
      let (y, pullback) = pool.forward(x)
      let dx = pullback(Tensor(shape: [1, 1, 2, 2], scalars: [1, 1, 1, 1]))
      print(type(of: pool), y.scalars, dx.scalars)
    }
    // MaxPool2D [2.0, 3.0, 4.0, 2.0]: the gradient goes to each window's largest value
    // AvgPool2D [1.0, 1.5, 2.25, 1.0]: each of the four values gets a quarter
    // MinPool2D [0.0, 0.0, 0.0, 0.0]: the gradient goes to each window's smallest value
    #expect(pools[0](x).scalars == [2, 3, 4, 2])
    #expect(pools[1](x).scalars == [1, 1.5, 2.25, 1])
    #expect(pools[2](x).scalars == [0, 0, 0, 0])
    let maxGradient = pools[0].forward(x).pullback(Tensor(shape: [1, 1, 2, 2], scalars: [1, 1, 1, 1]))
    // The winners 2, 3, 2 and 4 sit at positions 1, 7, 11 and 13 of the 4×4 input.
    #expect(maxGradient.scalars == [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0])
    let averageGradient = pools[1].forward(x).pullback(Tensor(shape: [1, 1, 2, 2], scalars: [1, 1, 1, 1]))
    #expect(averageGradient.scalars == [Float](repeating: 0.25, count: 16))
  }

  // MARK: - Backpropagation

  @Test func backpropagationThroughASmallNetwork() throws {
    var rng = SeededGenerator(seed: 3)
    let model = Sequential {
      Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, using: &rng)   // [N,1,8,8] → [N,4,6,6]
      ReLU()
      MaxPool2D(kernelSize: 2, stride: 2)                                         // → [N,4,3,3]
      Flatten()                                                                   // → [N,36]
      Linear(inputFeatures: 36, outputFeatures: 3, using: &rng)                  // → [N,3]
    }
    let images = Tensor.randomNormal([2, 1, 8, 8], using: &rng)
    let (logits, pullback) = model.forward(images)            // each layer keeps what its backward needs
    let (loss, dLogits) = softmaxCrossEntropy(logits: logits, labels: [0, 2])
    let dImages = pullback(dLogits)                           // fills every Parameter.gradient
    print(loss, dImages.shape, model.parameters.map(\.gradient.shape))

    let check = checkGradients(of: model, input: images, using: &rng)
    print(check.maxError)   // backpropagation against central differences: about 1e-4
    #expect(dImages.shape == [2, 1, 8, 8])
    // checkGradients leaves the gradients zeroed; one more backward pass fills them again.
    _ = model.forward(images).pullback(dLogits)
    #expect(model.parameters.allSatisfy { $0.gradient.scalars.contains { $0 != 0 } })
    #expect(check.maxError < 1e-2)
  }

  // MARK: - Optimizers

  @Test func optimizersMinimiseAParabola() throws {
    // L(p) = ½‖p − target‖², so ∂L/∂p = p − target.
    let target: [Float] = [3, -2]
    let settings: [OptimizerSettings] = [
      OptimizerSettings(kind: .sgd, learningRate: 0.1),
      OptimizerSettings(kind: .momentum, learningRate: 0.05),
      OptimizerSettings(kind: .nesterov, learningRate: 0.05),
      OptimizerSettings(kind: .adagrad, learningRate: 0.5),
      OptimizerSettings(kind: .rmsprop, learningRate: 0.05),
      OptimizerSettings(kind: .adam, learningRate: 0.1),
      OptimizerSettings(kind: .adamw, learningRate: 0.1, weightDecay: 0),
      OptimizerSettings(kind: .adadelta, learningRate: 1),
    ]
    for setting in settings {
      let p = Parameter(Tensor(shape: [2], scalars: [0, 0]))
      let optimizer = setting.make()
      for _ in 0..<200 {
        p.gradient = Tensor(shape: [2], scalars: zip(p.value.scalars, target).map { $0 - $1 })
        optimizer.step([p])   // updates p.value, then zeroes p.gradient
      }
      print(setting.runDescription, p.value.scalars)
    }
    for setting in settings.dropLast() {
      let p = Parameter(Tensor(shape: [2], scalars: [0, 0]))
      let optimizer = setting.make()
      for _ in 0..<200 {
        p.gradient = Tensor(shape: [2], scalars: zip(p.value.scalars, target).map { $0 - $1 })
        optimizer.step([p])
      }
      #expect(abs(p.value.scalars[0] - 3) < 0.2 && abs(p.value.scalars[1] + 2) < 0.2, "\(setting)")
    }
  }

  // MARK: - The model zoo

  @Test func parameterArithmetic() throws {
    var rng = SeededGenerator(seed: 0)
    let summary = try ModelSummary(model: .lenet5, using: &rng)
    for row in summary.rows where row.parameterCount > 0 {
      print(row.name, row.kind, row.parameterFormula)   // 0 Conv2D 1→6 5x5 p2 5·5·1·6 + 6 = 156 …
    }
    print(summary.totalParameters)   // 61706
    let paper = try ModelSummary(model: .lenet5RBF, using: &rng)
    print(paper.totalParameters)     // 60856: the RBF codes are fixed, not learned
    #expect(summary.totalParameters == 61_706 && paper.totalParameters == 60_856)
    #expect(summary.rows.map(\.parameterFormula).contains("5·5·1·6 + 6 = 156"))
  }

  // MARK: - Training

  @Test func trainingWithTheSeedsLoop() throws {
    var rng = SeededGenerator(seed: 42)
    let mnist = try MNIST.bundledSample()
    let model = ModelName.simpleConvNet.make(inputShape: [1, 28, 28], classCount: 10, initialization: .he, using: &rng)
    let trainer = Trainer(model: model, optimizer: Adam(learningRate: 1e-3))
    let result = trainer.fit(
      mnist.training.prefix(600), test: mnist.test,
      configuration: TrainingConfiguration(epochs: 2, batchSize: 100, evaluationSample: 200), using: &rng)
    print(result.trainAccuracies, result.testAccuracies)   // the seeds' train_acc_list and test_acc_list
    #expect(result.testAccuracies.count == 2 && result.epochs.allSatisfy { $0.testImages == 200 })
    #expect((result.testAccuracies.last ?? 0) > 0.5)
  }

  // MARK: - Checkpoints and PyTorch

  @Test func checkpointRoundTrip() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnnkit-docs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var rng = SeededGenerator(seed: 5)
    let model = LeNet5(using: &rng)
    let url = folder.appendingPathComponent("lenet5.safetensors")
    try Checkpoint.save(model: model, modelName: .lenet5, inputShape: [1, 28, 28], classCount: 10, to: url)

    let file = try SafeTensorsFile(contentsOf: url)    // what safetensors.torch.load_file reads
    print(file.names.prefix(4))                        // ["0.weight", "0.bias", "3.weight", "3.bias"]
    let restored = try Checkpoint.load(from: url).makeModel()
    let x = Tensor.randomNormal([1, 1, 28, 28], using: &rng)
    print(restored(x) == model(x))                     // true: the same weights, the same outputs
    #expect(restored(x) == model(x))
    #expect(file.names.contains("11.weight") && file.names.contains("0.weight"))
  }
}

// MARK: - README

/// The README's samples. They read files a test machine does not have (a CIFAR-10 folder, a
/// photo) or train for minutes, so they are compiled here and not run.
enum ReadmeSnippets {
  static func sessionAndRestoredModel() throws {
    let dataset = DatasetSpecification(kind: .cifar10, directory: "cifar-10-batches-bin")
    let (training, test) = try dataset.load()
    var run = RunConfiguration.recipe(for: .cifarCNN, dataset: dataset, training: training)
    run.epochs = 5
    run.normalization = Normalization.measured(on: training)
    let session = try TrainingSession(configuration: run, training: training, test: test)
    session.checkpointURL = URL(fileURLWithPath: "cifar.safetensors")
    try session.run(observers: [ProgressBar()])            // session.control.pause() / .requestStop() from elsewhere

    let restored = try RestoredModel(contentsOf: URL(fileURLWithPath: "cifar.safetensors"))
    let x = restored.input(from: try Image.read(from: "cat.png"))   // resized, scaled, normalised as in training
    print(restored.probabilities(for: x)[0])                        // one probability per class name
  }

  static func explicitLoop() throws {
    var rng = SeededGenerator(seed: 42)                  // all randomness is injected and seedable
    let mnist = try MNIST.bundledSample()                // IDX magic numbers, sizes and counts are checked
    let model = Sequential {
      Conv2D(inputChannels: 1, outputChannels: 30, kernelSize: 5, using: &rng)   // [N,1,28,28] → [N,30,24,24]
      ReLU()
      MaxPool2D(kernelSize: 2, stride: 2)                                          // → [N,30,12,12]
      Flatten()
      Linear(inputFeatures: 4320, outputFeatures: 100, using: &rng)
      ReLU()
      Linear(inputFeatures: 100, outputFeatures: 10, using: &rng)
    }
    let optimizer = Adam(learningRate: 1e-3)
    for epoch in 1...5 {
      for batch in mnist.training.batches(size: 100, shuffledUsing: &rng) {
        let (logits, pullback) = model.forward(batch.images)        // training mode: returns a pullback
        let (loss, dLogits) = softmaxCrossEntropy(logits: logits, labels: batch.labels)
        _ = pullback(dLogits)                                       // fills each Parameter.gradient
        optimizer.step(model.parameters)                            // updates, then zeroes the gradients
      }
      print("epoch \(epoch): test accuracy \(model.evaluate(on: mnist.test).accuracy)")   // model(x) is inference
    }
  }
}
