import CNNData
import CNNLayers
import CNNModels
import CNNTensor
import CNNTraining
import Foundation

/// The dashboard of one process: the hub, the observer of a run (or of a finished run's
/// model), and the server, wired together.
///
///     let dashboard = LiveDashboard(session: session, checkpoint: "run.safetensors")
///     let port = try await dashboard.server.start(port: 8080, nextPorts: 10)
///     try session.run(observers: [ProgressBar(), dashboard.observer!])
public final class LiveDashboard: @unchecked Sendable {
  public let hub = DashboardHub()
  public let observer: DashboardObserver?
  public let server: DashboardServer

  /// A dashboard for a run about to start: its events and snapshots, and its controls.
  public init(session: TrainingSession, checkpoint: String?, token: DashboardToken = DashboardToken()) {
    let run = session.configuration
    let description = Self.describe(
      session.model, inputShape: run.imageShape, name: run.model.rawValue, classNames: run.classNames,
      checkpoint: checkpoint, live: true)
    let observer = DashboardObserver(
      hub: hub, model: session.model, description: description, test: session.test, normalization: run.normalization)
    self.observer = observer
    session.gradientInspector = { [observer] parameters in observer.inspectGradients(parameters) }
    self.server = DashboardServer(
      hub: hub, token: token, control: session.control, drawingSize: run.imageShape.dimensions.reduce(1, *),
      predict: { pixels in await observer.predict(pixels: pixels) })
    observer.publishIntroduction()
  }

  /// A dashboard for a finished run: the lines of its `--json` log, and with `restored`, the
  /// checkpoint's model on `test` (activations, filters, predictions, confusion matrix, drawings).
  public init(log lines: [String], restored: RestoredModel?, test: Dataset?, token: DashboardToken = DashboardToken()) {
    if let restored {
      let description = Self.describe(
        restored.model, inputShape: restored.inputShape, name: restored.modelName.rawValue,
        classNames: restored.classNames, checkpoint: nil, live: false)
      let observer = DashboardObserver(
        hub: hub, model: restored.model, description: description, test: test, normalization: restored.normalization)
      self.observer = observer
      self.server = DashboardServer(
        hub: hub, token: token, control: nil, drawingSize: restored.inputShape.dimensions.reduce(1, *),
        predict: { pixels in await observer.predict(pixels: pixels) })
      observer.publishIntroduction()
    } else {
      self.observer = nil
      self.server = DashboardServer(hub: hub, token: token, control: nil)
    }
    for line in lines { hub.publish(line) }
    if let observer {
      observer.publishStillSnapshot()
      if let test, let epoch = Self.lastEpoch(in: lines) {
        hub.publish(DashboardMessage.jsonLine("confusion", observer.maker.confusion(on: test, epoch: epoch)))
      }
    }
  }

  static func lastEpoch(in lines: [String]) -> Int? {
    lines.reversed().lazy.compactMap { line -> Int? in
      guard let event = try? TrainingEvent(jsonLine: line), case .epoch(let summary) = event else { return nil }
      return summary.epoch
    }.first
  }

  static func describe(
    _ model: any Layer, inputShape: Shape, name: String, classNames: [String], checkpoint: String?, live: Bool
  ) -> ModelDescription {
    // A model that trains fits its input, so its summary does not fail; if it did, the page
    // shows no layer column rather than no dashboard.
    var description = ModelDescription(
      model: name, inputShape: inputShape.dimensions, classNames: classNames, layers: [],
      drawable: inputShape.dimensions == [1, 28, 28], checkpoint: checkpoint, live: live)
    if let summary = try? ModelSummary(of: model, inputShape: inputShape, modelName: name) {
      description = ModelDescription(summary: summary, model: name, classNames: classNames, checkpoint: checkpoint, live: live)
    }
    return description
  }

  /// The address to open: `http://HOST:PORT/?token=…`.
  public func address(host: String, port: UInt16) -> String {
    let shown = host.contains(":") ? "[\(host)]" : host
    return "http://\(shown):\(port)/?token=\(server.token)"
  }
}
