import ArgumentParser
import CNNKit

// The library's typed values, read from the command line. Each parser is the library's own,
// so a value means the same here as in a saved run.

extension ModelName: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension DatasetSpecification.Kind: ExpressibleByArgument {}

extension DatasetSpecification.ImageSize: ExpressibleByArgument {
  public init?(argument: String) { self.init(parsing: argument) }
}

extension WeightInitialization: ExpressibleByArgument {
  public init?(argument: String) { self.init(parsing: argument) }
}

extension AugmentationPipeline: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

extension ScheduleSpecification: ExpressibleByArgument {
  public init?(argument: String) { try? self.init(parsing: argument) }
}

/// An image shape given as `C×H×W` (`1x28x28`), parsed by `Shape(parsingImageShape:)`.
struct ImageShape: ExpressibleByArgument {
  var shape: Shape

  init?(argument: String) {
    guard let shape = Shape(parsingImageShape: argument) else { return nil }
    self.shape = shape
  }

  var defaultValueDescription: String { shape.dimensions.map(String.init).joined(separator: "x") }
}
