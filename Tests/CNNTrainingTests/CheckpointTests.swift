import CNNData
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import Foundation
import Testing

@testable import CNNTraining

@Suite struct CheckpointTests {
  /// A small network with parameters and buffers (batch normalization).
  func smallNetwork(classCount: Int = 10, using g: inout SeededGenerator) -> Sequential {
    Sequential {
      Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, using: &g)
      BatchNorm2D(featureCount: 4)
      ReLU()
      Flatten()
      Linear(inputFeatures: 4 * 4 * 4, outputFeatures: classCount, using: &g)
    }
  }

  /// Labelled random images, `count` of them, `side`×`side`.
  func randomImages(count: Int, side: Int, seed: UInt64) -> Dataset {
    var g = SeededGenerator(seed: seed)
    let pixels = (0..<(count * side * side)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    let labels = (0..<count).map { _ in Int(g.next() % 10) }
    return Dataset(images: pixels, labels: labels, channels: 1, height: side, width: side, classNames: (0..<10).map(String.init))
  }

  func allTensors(_ model: any Layer) -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for (name, parameter) in model.namedParameters { result[name] = parameter.value }
    for (name, buffer) in model.namedBuffers { result[name] = buffer.value }
    return result
  }

  // MARK: - Round trips

  @Test func saveLoadIsExact() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var g = SeededGenerator(seed: 1)
    let model = smallNetwork(using: &g)
    _ = model.forward(Tensor.randomNormal([3, 1, 6, 6], using: &g))  // moves the running statistics
    let url = directory.appendingPathComponent("small.safetensors")
    try Checkpoint.save(model: model, modelName: .simpleConvNet, inputShape: [1, 6, 6], classCount: 10, to: url)

    let checkpoint = try Checkpoint.load(from: url)
    #expect(checkpoint.modelName == .simpleConvNet)
    #expect(checkpoint.inputShape == [1, 6, 6])
    #expect(checkpoint.classCount == 10)
    #expect(checkpoint.training == nil)
    #expect(checkpoint.otherMetadata.isEmpty)
    #expect(checkpoint.tensors.map(\.name) == model.namedParameters.map(\.name) + model.namedBuffers.map(\.name))
    #expect(checkpoint.tensor(named: "1.num_batches_tracked")?.scalars == [1])

    var h = SeededGenerator(seed: 2)
    let copy = smallNetwork(using: &h)
    #expect(allTensors(copy) != allTensors(model))
    try checkpoint.apply(to: copy)
    #expect(allTensors(copy) == allTensors(model))
    let file = try SafeTensorsFile(contentsOf: url)
    #expect(file.metadata == ["format": "cnnkit", "format_version": "2", "model": "simple-convnet",
                              "input_shape": "[1, 6, 6]", "class_count": "10"])
  }

  @Test func trainingStateRoundTrip() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var g = SeededGenerator(seed: 3)
    let model = ModelName.deepConvNet.make(inputShape: [1, 12, 12], classCount: 10, using: &g)
    let optimizer = Adam(learningRate: 0.0123)
    Trainer(model: model, optimizer: optimizer).fit(
      randomImages(count: 8, side: 12, seed: 4), test: nil, configuration: .init(epochs: 1, batchSize: 4), using: &g)
    let state = TrainingState(epochsCompleted: 1, optimizer: optimizer, model: model, generator: g)
    #expect(state.dropoutGenerators.count == 2)
    #expect(state.optimizerState["0.step"]?.scalars == [2])
    let run = RunConfiguration(
      model: .deepConvNet, dataset: DatasetSpecification(kind: .folder, directory: "random-images"),
      inputShape: [1, 12, 12], classNames: (0..<10).map(String.init),
      optimizer: OptimizerSettings(kind: .adam, learningRate: 0.0123), epochs: 8, batchSize: 4, seed: 3)
    let url = directory.appendingPathComponent("run.safetensors")
    try Checkpoint(model: model, run: run, training: state).write(to: url)

    let loaded = try Checkpoint.load(from: url)
    #expect(loaded.training == state)
    #expect(loaded.run == run)
    #expect(loaded.otherMetadata.isEmpty)
    #expect(!loaded.tensors.contains { $0.name.hasPrefix("optimizer.") })
    let file = try SafeTensorsFile(contentsOf: url)
    #expect(file.metadata["state"]?.contains("\"learning_rate\":0.0123") == true)
    let dataDirectory = try #require(run.dataset.directory)
    #expect(dataDirectory.hasPrefix("/") && dataDirectory.hasSuffix("/random-images"), "made absolute: \(dataDirectory)")
    #expect(file.metadata["run"]?.contains("\"directory\":\"\(dataDirectory)\"") == true)
    #expect(file.names.contains("optimizer.0.exp_avg"))

    let names = ["zero", "o\"ne", "two, three", "", "é\n"] + (5..<10).map(String.init)
    try Checkpoint.save(
      model: model, modelName: .deepConvNet, inputShape: [1, 12, 12], classCount: 10, classNames: names, to: url)
    #expect(try Checkpoint.load(from: url).classNames == names)

    // Weights alone (`cnn export`): no optimizer keys, no training state, the same weights,
    // and still the run (its normalization and class names are needed to use the weights).
    let weightsURL = directory.appendingPathComponent("weights.safetensors")
    try loaded.weightsOnly.write(to: weightsURL)
    let weights = try SafeTensorsFile(contentsOf: weightsURL)
    #expect(Set(weights.names) == Set(allTensors(model).keys))
    #expect(
      weights.metadata.keys.sorted()
        == ["format", "format_version", "input_shape", "model", "class_count", "class_names", "run"].sorted())
    let reloaded = try Checkpoint.load(from: weightsURL)
    #expect(reloaded.training == nil && reloaded.run == run)
    for (name, tensor) in allTensors(model) { #expect(reloaded.tensor(named: name) == tensor, "\(name)") }
  }

  // MARK: - Applying to a model

  @Test func mismatchListsMissingUnexpectedAndMisShapedKeys() throws {
    var g = SeededGenerator(seed: 6)
    let model = smallNetwork(using: &g)
    let before = allTensors(model)
    var tensors = Checkpoint(model: model, modelName: .simpleConvNet, inputShape: [1, 6, 6], classCount: 10).tensors
    tensors.removeAll { $0.name == "0.bias" || $0.name == "1.running_var" }
    tensors.append(("fc.weight", .zeros([2, 2])))
    let index = try #require(tensors.firstIndex { $0.name == "4.weight" })
    tensors[index].tensor = .zeros([7, 64])
    let checkpoint = Checkpoint(tensors: tensors)

    let expected = CheckpointError.stateMismatch(
      model: "Sequential", missing: ["0.bias", "1.running_var"], unexpected: ["fc.weight"],
      mismatched: [.init(key: "4.weight", expected: [10, 64], found: [7, 64])])
    #expect(throws: expected) { try checkpoint.apply(to: model) }
    #expect(allTensors(model) == before, "a failed apply changes nothing")
    let message = expected.description
    #expect(message.contains(#"Missing key(s): "0.bias", "1.running_var"."#))
    #expect(message.contains(#"Unexpected key(s): "fc.weight"."#))
    #expect(message.contains("Size mismatch for 4.weight: the checkpoint has shape [7, 64], the model has [10, 64]."))

    // Not strict: missing and unexpected keys are skipped, a mis-shaped one still fails.
    #expect(throws: CheckpointError.stateMismatch(
      model: "Sequential", missing: [], unexpected: [], mismatched: [.init(key: "4.weight", expected: [10, 64], found: [7, 64])])
    ) { try checkpoint.apply(to: model, strict: false) }
    tensors.removeAll { $0.name == "4.weight" }
    let report = try Checkpoint(tensors: tensors).apply(to: model, strict: false)
    #expect(report == .init(missing: ["0.bias", "4.weight", "1.running_var"], unexpected: ["fc.weight"]))
  }

  @Test func missingBatchCounterIsAccepted() throws {
    var g = SeededGenerator(seed: 7)
    let model = smallNetwork(using: &g)
    let tensors = Checkpoint(model: model, modelName: .simpleConvNet, inputShape: [1, 6, 6], classCount: 10).tensors
      .filter { !$0.name.hasSuffix("num_batches_tracked") }
    #expect(try Checkpoint(tensors: tensors).apply(to: model) == .init(missing: [], unexpected: []))
  }

  /// A plain state_dict (no CNNKit metadata) needs the model named; the class count comes from
  /// the last linear layer's weight, the channels from the first convolution's.
  @Test func plainStateDictLoadsWhenTheModelIsNamed() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var g = SeededGenerator(seed: 8)
    let original = SimpleConvNet(inputShape: [3, 28, 28], classCount: 7, using: &g)
    let url = directory.appendingPathComponent("plain.safetensors")
    let tensors = original.namedParameters.map { (name: $0.name, tensor: $0.parameter.value) }
    try SafeTensors.write(tensors, metadata: ["format": "pt"], to: url)

    let checkpoint = try Checkpoint.load(from: url)
    #expect(checkpoint.modelName == nil)
    #expect(checkpoint.otherMetadata == ["format": "pt"])
    #expect(throws: CheckpointError.modelNameRequired) { try checkpoint.makeModel() }
    let model = try checkpoint.makeModel(.simpleConvNet)
    #expect(try model.outputShape(for: [2, 3, 28, 28]) == [2, 7])
    #expect(allTensors(model) == allTensors(original))
    let image = Tensor.randomNormal([1, 3, 28, 28], using: &g)
    #expect(model(image) == original(image))

    let saved = directory.appendingPathComponent("saved.safetensors")
    try Checkpoint.save(model: model, modelName: .simpleConvNet, inputShape: [3, 28, 28], classCount: 7, to: saved)
    #expect(throws: CheckpointError.modelMismatch(checkpoint: "simple-convnet", requested: "lenet5")) {
      try Checkpoint.load(from: saved).makeModel(.lenet5)
    }
    #expect(try Checkpoint.load(from: saved).makeModel().outputShape(for: [1, 3, 28, 28]) == [1, 7])
  }

  @Test func invalidMetadataAndConfiguration() throws {
    func load(_ metadata: [String: String]) throws -> Checkpoint {
      try Checkpoint(file: SafeTensorsFile(bytes: SafeTensors.encode([], metadata: metadata)))
    }
    #expect(throws: CheckpointError.invalidMetadata(
      key: "model", value: "resnet9", expected: "one of " + ModelName.allCases.map(\.rawValue).joined(separator: ", "))
    ) { try load(["format": "cnnkit", "model": "resnet9"]) }
    #expect(throws: CheckpointError.self) { try load(["format": "cnnkit", "model": "lenet5", "input_shape": "28x28"]) }
    #expect(throws: CheckpointError.self) { try load(["format": "cnnkit", "model": "lenet5", "class_count": "-1"]) }
    #expect(throws: CheckpointError.self) {
      try load(["format": "cnnkit", "model": "lenet5", "epochs_completed": "1", "optimizer": "adam"])
    }
    let tooSmall = try load(["format": "cnnkit", "model": "lenet5", "input_shape": "[1, 3, 3]", "class_count": "10"])
    #expect {
      try tooSmall.makeModel()
    } throws: { error in
      guard case .invalidConfiguration = error as? CheckpointError else { return false }
      return true
    }
    #expect(Shape(parsing: "[3, 224, 224]") == [3, 224, 224])
    #expect(Shape(parsing: "[]") == [])
    #expect(Shape(parsing: "[1,,2]") == nil)
  }

  /// Found while writing `Fuzz/`'s FuzzCheckpoint harness (a hand-made input replayed through
  /// it; the fuzzer's own search had not reached it yet): a 150-byte file naming
  /// `simple-convnet` for 8192 × 8192 images made the loader build a first dense layer of 50
  /// billion weights (200 GB) before finding that the file holds none of them; a stated class
  /// count was built likewise. Both are refused before anything is built, and a model the
  /// file does hold still loads.
  @Test func aModelLargerThanTheFileIsRefusedBeforeItIsBuilt() throws {
    func load(_ metadata: [String: String], tensors: [(name: String, tensor: Tensor)] = []) throws -> Checkpoint {
      try Checkpoint(file: SafeTensorsFile(bytes: SafeTensors.encode(tensors, metadata: metadata)))
    }
    func expectInvalidConfiguration(_ checkpoint: Checkpoint, mentioning text: String) {
      #expect {
        _ = try RestoredModel(checkpoint: checkpoint, source: "fuzz")
      } throws: { error in
        guard case .invalidConfiguration(let reason) = error as? CheckpointError else { return false }
        return reason.contains(text)
      }
    }
    // 1,000 values: more than SimpleConvNet has at any size, far fewer than these claims need.
    let few = [(name: "0.weight", tensor: Tensor(shape: [1000], scalars: Array(repeating: 0, count: 1000)))]
    let vgg = try load(["format": "cnnkit", "model": "vgg16"], tensors: few)
    expectInvalidConfiguration(vgg, mentioning: "at least 134258816 parameters at any image size")
    let large = try load(
      ["format": "cnnkit", "model": "simple-convnet", "input_shape": "[1, 300, 300]", "class_count": "10"], tensors: few)
    expectInvalidConfiguration(large, mentioning: "has 65713890 parameters")
    let huge = try load(
      ["format": "cnnkit", "model": "simple-convnet", "input_shape": "[1, 8192, 8192]", "class_count": "10"], tensors: few)
    #expect {
      _ = try RestoredModel(checkpoint: huge, source: "fuzz")
    } throws: { error in
      guard case .memoryBudget = error as? CheckpointError else { return false }
      return true
    }
    let manyClasses = try load(["format": "cnnkit", "model": "simple-convnet", "class_count": "100000"], tensors: few)
    expectInvalidConfiguration(manyClasses, mentioning: "at least 100000 weights")
    let empty = try load(["format": "cnnkit", "model": "simple-convnet"])
    expectInvalidConfiguration(empty, mentioning: "at least 30 parameters")

    var generator = SeededGenerator(seed: 5)
    let model = ModelName.simpleConvNet.make(inputShape: [1, 12, 10], classCount: 3, using: &generator)
    let saved = Checkpoint(model: model, modelName: .simpleConvNet, inputShape: [1, 12, 10], classCount: 3)
    let loaded = try load(saved.metadata, tensors: saved.tensors)
    #expect(try RestoredModel(checkpoint: loaded, source: "fuzz").inputShape == [1, 12, 10])
  }
}

/// Checkpoints of format version 1 kept the run as `training.*` strings; they still load as a
/// typed run and state, and resume.
@Suite struct LegacyCheckpointTests {
  @Test func versionOneTrainingCheckpointResumes() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var g = SeededGenerator(seed: 1)
    let model = ModelName.simpleConvNet.make(inputShape: [1, 12, 12], classCount: 10, using: &g)
    let optimizer = Adam(learningRate: 0.0005)
    let data = TrainingSessionTests.images(count: 16, seed: 2)
    Trainer(model: model, optimizer: optimizer).fit(
      data, test: nil, configuration: .init(epochs: 1, batchSize: 8), using: &g)
    var tensors = model.namedParameters.map { ($0.name, $0.parameter.value) }
    for (key, tensor) in optimizer.stateTensors(for: model.parameters) { tensors.append(("optimizer." + key, tensor)) }
    let metadata = [
      "format": "cnnkit", "format_version": "1", "model": "simple-convnet", "input_shape": "[1, 12, 12]",
      "class_count": "10", "epochs_completed": "2", "optimizer": "adam", "learning_rate": "0.0005", "seed": "42",
      "generator_state": "1,2,3,4", "batch_size": "8", "dropout_generators": "", "training.epochs": "3",
      "training.schedule": "cosine=3,min=0.0", "training.base_learning_rate": "0.001", "training.augment": "crop=2",
      "training.dataset": "mnist-sample", "training.threads": "2", "training.normalization": "mean=0.5;std=0.25",
      "training.weight_decay": "0.0001", "training.stop_at_chance": "0",
    ]
    let url = directory.appendingPathComponent("old.safetensors")
    try SafeTensors.write(tensors, metadata: metadata, to: url)

    let loaded = try Checkpoint.load(from: url)
    let run = try #require(loaded.run)
    #expect(run.model == .simpleConvNet && run.inputShape == [1, 12, 12] && run.epochs == 3 && run.batchSize == 8)
    #expect(run.schedule == ScheduleSpecification(decay: .cosine(epochs: nil, minimum: 0)), "a whole-run cosine")
    #expect(run.optimizer == OptimizerSettings(kind: .adam, learningRate: 0.001, weightDecay: 0.0001))
    #expect(run.augmentation.description == "crop=2" && run.dataset == .mnistSample && run.threads == 2)
    #expect(run.normalization == Normalization(mean: [0.5], standardDeviation: [0.25]))
    let state = try #require(loaded.training)
    #expect(state.epochsCompleted == 2 && state.learningRate == 0.0005)
    #expect(TrainingState.words(state.generator) == [1, 2, 3, 4])
    #expect(loaded.otherMetadata.isEmpty)

    let session = try TrainingSession(resuming: loaded, training: data, test: nil)
    #expect(session.epochsCompleted == 2)
    try session.run()
    #expect(session.epochsCompleted == 3)
  }

  /// An all-zero generator state would shuffle forever: it is refused when read.
  @Test func zeroGeneratorStateIsRefused() throws {
    let metadata = [
      "format": "cnnkit", "format_version": "1", "model": "simple-convnet", "input_shape": "[1, 12, 12]",
      "class_count": "10", "epochs_completed": "1", "optimizer": "adam", "learning_rate": "0.001", "seed": "42",
      "generator_state": "0,0,0,0", "batch_size": "8",
    ]
    let bytes = SafeTensors.encode([], metadata: metadata)
    #expect {
      _ = try Checkpoint(file: SafeTensorsFile(bytes: bytes))
    } throws: { error in "\(error)".contains("generator_state") && "\(error)".contains("not all zero") }
  }
}
