import CNNData
import CNNKernels
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import Foundation
import Testing

@testable import CNNTraining

/// Checkpoint metadata that is well-formed and lying, in both format versions, and weights
/// that are not numbers: each is refused with an error naming the key or tensor, before
/// anything is built from it.
@Suite struct CheckpointLiesTests {
  /// A LeNet-5 trained for one epoch (not really: its initial weights), with a training state.
  static func saved() -> Checkpoint {
    var generator = SeededGenerator(seed: 3)
    let run = RunConfiguration(
      model: .lenet5, dataset: .mnistSample, inputShape: [1, 28, 28], classNames: (0..<10).map(String.init),
      optimizer: OptimizerSettings(kind: .adam, learningRate: 0.001), epochs: 2, batchSize: 10)
    let model = run.model.make(inputShape: run.imageShape, classCount: 10, using: &generator)
    let optimizer = run.optimizer.make()
    let state = TrainingState(epochsCompleted: 1, optimizer: optimizer, model: model, generator: SeededGenerator(seed: 9))
    return Checkpoint(model: model, run: run, training: state)
  }

  /// Reads `checkpoint` back after `edit` changed its metadata.
  static func reread(_ checkpoint: Checkpoint, _ edit: (inout [String: String]) -> Void) throws(CheckpointError) -> Checkpoint {
    var metadata = checkpoint.metadata
    edit(&metadata)
    return try Checkpoint(file: SafeTensorsFile(bytes: SafeTensors.encode(checkpoint.allTensors, metadata: metadata)))
  }

  /// The same checkpoint with format-version-1 keys (`training.*`) instead of `run`/`state`.
  static func legacy(_ metadata: inout [String: String], _ extra: [String: String]) {
    metadata["run"] = nil
    metadata["state"] = nil
    metadata["format_version"] = "1"
    let v1: [String: String] = [
      "epochs_completed": "1", "optimizer": "adam", "learning_rate": "0.001", "seed": "42",
      "generator_state": "1,2,3,4", "batch_size": "10", "training.epochs": "2",
    ]
    metadata.merge(v1) { $1 }
    metadata.merge(extra) { $1 }
  }

  static func invalidKey(_ body: () throws -> Checkpoint) -> String? {
    do {
      _ = try body()
      return nil
    } catch {
      if case .invalidMetadata(let key, _, _) = error as? CheckpointError { return key }
      return "\(error)"
    }
  }

  @Test func theHonestFileReadsInBothVersions() throws {
    _ = try Self.reread(Self.saved()) { _ in }
    let legacy = try Self.reread(Self.saved()) { Self.legacy(&$0, [:]) }
    #expect(legacy.training?.epochsCompleted == 1)
  }

  @Test func aHugeClassCountWithoutNamesIsRefused() {
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) {
        $0["class_names"] = nil
        $0["run"] = nil
        $0["state"] = nil
        $0["class_count"] = "100000000000"
      }
    } == "class_count")
  }

  @Test func fewerClassNamesThanClassesAreRefused() {
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) { $0["class_names"] = #"["a","b"]"# }
    } == "class_names")
  }

  @Test func anInputShapeOfFiftyGigabytesIsRefusedByTheBudget() throws {
    let checkpoint = try Self.reread(Self.saved()) {
      $0["run"] = nil
      $0["state"] = nil
      $0["input_shape"] = "[1, 4096, 4096]"
    }
    let error = #expect(throws: CheckpointError.self) {
      try RestoredModel(checkpoint: checkpoint, source: "lie.safetensors")
    }
    // Two checks refuse it before anything is built: the file cannot hold the dense layer this
    // shape needs (checked first), and the memory budget (below, when the file is large enough).
    switch error {
    case .invalidConfiguration(let reason)?:
      #expect(reason.contains("[1, 4096, 4096]") && reason.contains("checkpoint holds 61706 values"), "\(reason)")
    case .memoryBudget(let budget)?:
      #expect(budget.source.contains("1x4096x4096"), "\(budget)")
    default:
      Issue.record("expected a refusal before building, got \(String(describing: error))")
    }
  }

  @Test func anInfiniteWeightDecayIsRefused() {
    // JSON has no infinity: 1e39 overflows Float, and the v1 string "inf" parses as one.
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) { $0["run"] = $0["run"]?.replacingOccurrences(of: #""weightDecay":0"#, with: #""weightDecay":1e39"#) }
    } == "run")
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) { Self.legacy(&$0, ["training.weight_decay": "inf"]) }
    } == "training.weight_decay")
  }

  @Test(arguments: [0, 2]) func aFolderDatasetWithImpossibleChannelsIsRefused(channels: Int) {
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) {
        $0["run"] = $0["run"]?.replacingOccurrences(
          of: #""dataset":{"kind":"mnist-sample"}"#, with: #""dataset":{"kind":"folder","directory":"/data","channels":\#(channels)}"#)
      }
    } == "run")
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) {
        Self.legacy(&$0, ["training.dataset": "folder", "training.data_dir": "/data", "training.channels": "\(channels)"])
      }
    } == "run")
  }

  @Test func anAllZeroGeneratorIsRefused() {
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) {
        $0["state"] = $0["state"]?.replacing(#/"generator":\[[0-9,]+\]/#, with: #""generator":[0,0,0,0]"#)
      }
    } == "state.generator")
    #expect(Self.invalidKey {
      try Self.reread(Self.saved()) { Self.legacy(&$0, ["generator_state": "0,0,0,0"]) }
    } == "generator_state")
  }

  @Test func weightsThatAreNotNumbersAreRefusedNamingTheTensor() throws {
    for bad in [Float.nan, .infinity, -.infinity] {
      var checkpoint = Self.saved()
      let index = try #require(checkpoint.tensors.firstIndex { $0.name == "11.bias" })
      var values = checkpoint.tensors[index].tensor.scalars
      values[3] = bad
      checkpoint.tensors[index].tensor = Tensor(shape: checkpoint.tensors[index].tensor.shape, scalars: values)
      let error = #expect(throws: CheckpointError.self) { try RestoredModel(checkpoint: checkpoint, source: "x") }
      #expect(error == .nonFiniteTensor(key: "11.bias", index: 3, value: bad, count: 1) || bad.isNaN, "\(String(describing: error))")
      #expect(error?.description.contains("11.bias") == true)
    }
  }

  /// A moment that is not a number would turn every weight it touches into NaN at the first
  /// step of a resumed run: refused before training, naming the tensor as stored in the file.
  @Test func optimizerMomentsThatAreNotNumbersAreRefused() {
    var generator = SeededGenerator(seed: 1)
    let model = ModelName.lenet5.make(inputShape: [1, 28, 28], classCount: 10, using: &generator)
    let moment = Tensor(shape: [2], scalars: [0.5, .nan])
    let state = TrainingState(
      epochsCompleted: 1, learningRate: 0.001, optimizerState: ["0.exp_avg": moment], generator: SeededGenerator(seed: 9))
    let error = #expect(throws: CheckpointError.self) {
      try state.restoreOptimizer(OptimizerSettings(kind: .adam, learningRate: 0.001).make(), for: model)
    }
    guard case .nonFiniteTensor(let key, let index, _, let count) = error else {
      Issue.record("expected nonFiniteTensor, got \(String(describing: error))")
      return
    }
    #expect(key == "optimizer.0.exp_avg" && index == 1 && count == 1)
    #expect(error?.description.contains("optimizer's first step") == true, "\(String(describing: error))")
  }

  @Test func aHugeLossFormatsWithoutTrapping() {
    #expect(Float(1e38).formatted(4).contains("e+37"))  // 1e38 as Float is 9.99…e+37
    #expect(Double.infinity.formatted(2) == "inf")
    #expect(Float(2.5).formatted(2) == "2.50")
  }

  @Test func aRunThatCannotFitIsRefusedBeforeItsModelIsBuilt() {
    let error = #expect(throws: RunError.self) {
      try TrainingSession.checkMemory(model: .simpleConvNet, inputShape: [1, 4096, 4096], classCount: 2, batchSize: 1)
    }
    guard case .memoryBudget = error else {
      Issue.record("expected memoryBudget, got \(String(describing: error))")
      return
    }
    let activations = #expect(throws: RunError.self) {
      try TrainingSession.checkMemory(model: .simpleConvNet, inputShape: [1, 1000, 1000], classCount: 2, batchSize: 100)
    }
    #expect(activations?.description.contains("activations") == true, "\(String(describing: activations))")
  }

  @Test func anEmptyTestSplitMeasuresNothing() throws {
    let training = TrainingSessionTests.images(count: 20, seed: 1)
    let empty = TrainingSessionTests.images(count: 0, seed: 2)
    var run = try TrainingSessionTests.configuration(schedule: "constant", epochs: 1)
    run.augmentation = .none
    let session = try TrainingSession(configuration: run, training: training, test: empty)
    #expect(session.test == nil)
    #expect(session.notes.contains(TrainingSession.emptyTestNote))
    let result = try session.run(observers: [])
    #expect(result.finalTestAccuracy == nil)
  }
}
