import CNNKit
import Foundation

// Writes the seeds of the checkpoint harness with CNNKit's own writer: a SimpleConvNet for
// 1×6×6 images and 3 classes (about 20 KB) as weights alone, with its run configuration, with
// a training state after one epoch of Adam, and as a plain state_dict (no CNNKit metadata).
//
//     .build/release/FuzzSeeds corpus/checkpoint   (run.sh --seeds)

@main
enum FuzzSeeds {
  static func main() throws {
    let directory = URL(fileURLWithPath: CommandLine.arguments.dropFirst().first ?? "corpus/checkpoint")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    var generator = SeededGenerator(seed: 1)
    let classNames = ["zero", "one", "two"]
    let model = ModelName.simpleConvNet.make(inputShape: [1, 6, 6], classCount: 3, using: &generator)
    let optimizer = Adam(learningRate: 0.01)
    var pixels: [UInt8] = []
    for _ in 0..<(8 * 36) { pixels.append(UInt8.random(in: 0...255, using: &generator)) }
    let images = Dataset(
      images: pixels, labels: (0..<8).map { $0 % 3 }, channels: 1, height: 6, width: 6, classNames: classNames)
    Trainer(model: model, optimizer: optimizer).fit(
      images, test: nil, configuration: .init(epochs: 1, batchSize: 4), using: &generator)

    let run = RunConfiguration(
      model: .simpleConvNet, dataset: DatasetSpecification(kind: .folder, directory: "data/digits"),
      inputShape: [1, 6, 6], classNames: classNames,
      normalization: Normalization(mean: [0.5], standardDeviation: [0.25]),
      augmentation: try AugmentationPipeline(parsing: "flip,crop=1"),
      schedule: try ScheduleSpecification(parsing: "cosine,warmup=1"),
      optimizer: OptimizerSettings(kind: .adam, learningRate: 0.01), epochs: 2, batchSize: 4, seed: 1)
    let state = TrainingState(epochsCompleted: 1, optimizer: optimizer, model: model, generator: generator)

    try Checkpoint.save(
      model: model, modelName: .simpleConvNet, inputShape: [1, 6, 6], classCount: 3, classNames: classNames,
      to: url("weights.safetensors"))
    try Checkpoint(model: model, run: run).write(to: url("with-run.safetensors"))
    try Checkpoint(model: model, run: run, training: state).write(to: url("with-state.safetensors"))
    try Checkpoint(tensors: Checkpoint(model: model, run: run).tensors).write(to: url("state-dict.safetensors"))
  }
}
