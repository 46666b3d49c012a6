import CNNData
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import CNNTraining
import Foundation

/// Small random data and a run on it, shared by the dashboard tests.
enum Fixtures {
  static let classNames = (0..<10).map(String.init)

  /// `count` random 12×12 grey images with random labels.
  static func images(count: Int, seed: UInt64) -> Dataset {
    var g = SeededGenerator(seed: seed)
    let pixels = (0..<(count * 144)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    let labels = (0..<count).map { _ in Int(g.next() % 10) }
    return Dataset(images: pixels, labels: labels, channels: 1, height: 12, width: 12, classNames: classNames)
  }

  static let training = images(count: 48, seed: 5)
  static let test = images(count: 20, seed: 6)

  static func configuration(epochs: Int = 2) -> RunConfiguration {
    RunConfiguration(
      model: .simpleConvNet, dataset: DatasetSpecification(kind: .folder, directory: "random-images"),
      inputShape: [1, 12, 12], classNames: classNames, schedule: .constant,
      optimizer: OptimizerSettings(kind: .adam, learningRate: 0.003), epochs: epochs, batchSize: 8, seed: 11,
      threads: 1, stopAtChance: 0)
  }

  static func model() -> any Layer {
    var g = SeededGenerator(seed: 3)
    return ModelName.simpleConvNet.make(inputShape: [1, 12, 12], classCount: 10, using: &g)
  }
}

/// Collects events on the training thread.
final class Recorder: TrainingObserver {
  var events: [TrainingEvent] = []
  var onBatch: ((BatchProgress) -> Void)?
  func receive(_ event: TrainingEvent) {
    events.append(event)
    if case .batch(let progress) = event { onBatch?(progress) }
  }
}

/// The bytes a `data:image/png;base64,` URL holds, or `nil` for another string.
func pngBytes(ofDataURL url: String?) -> [UInt8]? {
  let prefix = "data:image/png;base64,"
  guard let url, url.hasPrefix(prefix), let data = Data(base64Encoded: String(url.dropFirst(prefix.count))) else {
    return nil
  }
  return [UInt8](data)
}

let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
