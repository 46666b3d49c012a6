import CNNData
import CNNModels
import CNNTraining
import Foundation

// The messages the dashboard sends besides the training events of `cnn train --json` (which
// it sends unchanged). Each is one JSON object whose `event` names its kind, encoded by
// ``DashboardMessage/jsonLine(_:)`` with the `--json` encoder (snake_case keys, sorted).

/// Encoding of dashboard messages.
public enum DashboardMessage {
  /// `value` as one line of JSON with `"event": kind` first among its keys' values.
  public static func jsonLine(_ kind: String, _ value: some Encodable) -> String {
    JSONLines.line(event: kind, value)
  }

  /// A PNG as a `data:` URL, which an `<img>` shows without another request.
  public static func dataURL(png bytes: [UInt8]) -> String {
    "data:image/png;base64," + Data(bytes).base64EncodedString()
  }

  /// `image` as a PNG `data:` URL: grey when every pixel is, and never as a palette image
  /// (finding a palette hashes every pixel, which costs the training thread more than it saves).
  public static func dataURL(image: Image) -> String {
    dataURL(png: PNGEncoder(usesPaletteWhenPossible: false).encode(image.reducedToGreyIfPossible()))
  }
}

/// `{"event":"model",…}`: the network as a column of layers, sent once when training starts.
public struct ModelDescription: Codable, Sendable, Equatable {
  public struct Layer: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var outputShape: [Int]
    public var parameters: Int

    enum CodingKeys: String, CodingKey {
      case name, kind, parameters
      case outputShape = "output_shape"
    }
  }

  public var model: String
  public var inputShape: [Int]
  public var classNames: [String]
  public var layers: [Layer]
  /// Whether the page offers a canvas to draw a digit on (28×28 grey models).
  public var drawable: Bool
  /// Where "stop" saves the run, if anywhere.
  public var checkpoint: String?
  /// Whether the run can be steered (a live run; not a finished one read from its log).
  public var live: Bool

  enum CodingKeys: String, CodingKey {
    case model, layers, drawable, checkpoint, live
    case inputShape = "input_shape", classNames = "class_names"
  }

  public init(
    model: String, inputShape: [Int], classNames: [String], layers: [Layer], drawable: Bool, checkpoint: String?,
    live: Bool
  ) {
    self.model = model
    self.inputShape = inputShape
    self.classNames = classNames
    self.layers = layers
    self.drawable = drawable
    self.checkpoint = checkpoint
    self.live = live
  }

  /// The rows of `summary`, with the model's name and classes.
  public init(
    summary: ModelSummary, model: String, classNames: [String], checkpoint: String?, live: Bool
  ) {
    self.model = model
    self.inputShape = summary.inputShape.dimensions
    self.classNames = classNames
    self.layers = summary.rows.map {
      Layer(name: $0.name, kind: $0.kind, outputShape: $0.outputShape.dimensions, parameters: $0.parameterCount)
    }
    self.drawable = inputShape == [1, 28, 28]
    self.checkpoint = checkpoint
    self.live = live
  }
}

/// `{"event":"samples",…}`: the fixed test images that the predictions grid and the
/// activation view show, sent once.
public struct SampleImages: Codable, Sendable, Equatable {
  public struct Sample: Codable, Sendable, Equatable {
    /// The index in the test split.
    public var index: Int
    public var label: Int
    /// The image as a PNG `data:` URL.
    public var image: String
  }

  public var samples: [Sample]
}

/// `{"event":"snapshot",…}`: what the network looks like now, throttled to one every second or
/// two while a page is connected.
public struct Snapshot: Codable, Sendable, Equatable {
  /// One layer's output for the fixed image (or a drawing).
  public struct Activation: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var shape: [Int]
    /// For `[1, K, H, W]` maps: the maps as tiles in one PNG (`data:` URL), each map scaled
    /// to its own range.
    public var image: String?
    /// For `[1, F]` outputs: the values (at most 256), rounded.
    public var values: [Float]?
  }

  /// The first convolution's filters as tiles (grey, or colour for RGB inputs).
  public struct Filters: Codable, Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var image: String
  }

  /// One parameter tensor's statistics at this step.
  public struct ParameterStatistics: Codable, Sendable, Equatable {
    public var name: String
    public var weightMean: Float
    public var weightStd: Float
    public var gradientMean: Float
    public var gradientStd: Float
    /// ‖Δw‖ / ‖w‖ of this step's update (about 1e-3 is healthy).
    public var updateRatio: Float

    enum CodingKeys: String, CodingKey {
      case name
      case weightMean = "weight_mean", weightStd = "weight_std", gradientMean = "gradient_mean"
      case gradientStd = "gradient_std", updateRatio = "update_ratio"
    }
  }

  /// The top classes for one sample image.
  public struct Prediction: Codable, Sendable, Equatable {
    public var index: Int
    public var label: Int
    /// The three likeliest classes, likeliest first.
    public var top: [Int]
    public var probabilities: [Float]
  }

  public var epoch: Int
  public var batch: Int
  public var activations: [Activation]
  public var filters: Filters?
  public var statistics: [ParameterStatistics]
  public var predictions: [Prediction]
  /// Milliseconds (wall clock) the training thread spent making this snapshot.
  public var milliseconds: Double
  /// CPU milliseconds the training thread spent making it (on a shared machine, the wall clock
  /// also counts the time other programs had the core).
  public var cpuMilliseconds: Double = 0

  enum CodingKeys: String, CodingKey {
    case epoch, batch, activations, filters, statistics, predictions, milliseconds
    case cpuMilliseconds = "cpu_milliseconds"
  }
}

/// `{"event":"confusion",…}`: the confusion matrix on the test images after an epoch.
public struct ConfusionSnapshot: Codable, Sendable, Equatable {
  public var epoch: Int
  public var classNames: [String]
  /// `counts[actual][predicted]`.
  public var counts: [[Int]]
  /// Test images counted.
  public var images: Int

  enum CodingKeys: String, CodingKey {
    case epoch, counts, images
    case classNames = "class_names"
  }
}

/// The reply to a drawing (`POST /predict`): probabilities and every layer's activations.
public struct DrawingPrediction: Codable, Sendable, Equatable {
  public var probabilities: [Float]
  public var activations: [Snapshot.Activation]
}
