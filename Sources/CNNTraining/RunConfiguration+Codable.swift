import CNNData
import CNNLayers
import CNNModels

// How the typed values of a run are written in a checkpoint's `run` entry. Each decodes with
// the same checks its parser makes, so a damaged file is refused, never half-read.

extension ModelName: Codable {}

extension WeightInitialization: Codable {
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = WeightInitialization(parsing: text) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not he, xavier, pytorch or normal=STD"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

extension AugmentationPipeline: Codable {
  /// Written as its spelling, `"flip,crop=4"` (`"none"` for none).
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do {
      self = try AugmentationPipeline(parsing: text)
    } catch {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(isEmpty ? "none" : description)
  }
}

extension Normalization: Codable {
  private enum CodingKeys: String, CodingKey {
    case mean
    case standardDeviation = "std"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let mean = try container.decode([Float].self, forKey: .mean)
    let deviation = try container.decode([Float].self, forKey: .standardDeviation)
    guard !mean.isEmpty, mean.count == deviation.count, mean.count <= 4, mean.allSatisfy(\.isFinite),
      deviation.allSatisfy({ $0 > 0 && $0.isFinite })
    else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "a normalization needs 1 to 4 finite means and as many positive deviations"))
    }
    self.init(mean: mean, standardDeviation: deviation)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(mean, forKey: .mean)
    try container.encode(standardDeviation, forKey: .standardDeviation)
  }
}
