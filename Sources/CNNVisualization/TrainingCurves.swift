import CNNData
/// Loss and accuracy per epoch, drawn as two charts side by side: the seeds' loss curve and
/// their train/test accuracy plot.
///
/// Build it from a JSON-lines training log (``parse(jsonLines:file:)``, the format of
/// `cnn train --json`) or from values in memory, then write ``svg()``.
public struct TrainingCurves: Sendable {
  /// The measurements of one epoch; any of them may be missing.
  public struct Epoch: Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double?
    public var trainAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?

    public init(
      epoch: Int, trainLoss: Double? = nil, trainAccuracy: Double? = nil, testLoss: Double? = nil,
      testAccuracy: Double? = nil
    ) {
      self.epoch = epoch
      self.trainLoss = trainLoss
      self.trainAccuracy = trainAccuracy
      self.testLoss = testLoss
      self.testAccuracy = testAccuracy
    }
  }

  /// The epochs, in order.
  public var epochs: [Epoch]
  /// A line under the charts' titles naming the run (model, optimizer…), or `nil`.
  public var subtitle: String?

  public init(epochs: [Epoch], subtitle: String? = nil) {
    self.epochs = epochs
    self.subtitle = subtitle
  }

  /// The loss chart: train (solid) and test (dashed) cross-entropy per epoch.
  public var lossChart: LineChart {
    var chart = LineChart(title: "Loss", xLabel: "epoch", yLabel: "cross-entropy loss")
    chart.integerX = true
    chart.xSpansData = true
    chart.yLimits = 0...Double.infinity
    add(\.trainLoss, "train loss", color: LineChart.palette[0], dashed: false, to: &chart)
    add(\.testLoss, "test loss", color: LineChart.palette[1], dashed: true, to: &chart)
    return chart
  }

  /// The accuracy chart: train (solid) and test (dashed) accuracy per epoch, in percent.
  public var accuracyChart: LineChart {
    var chart = LineChart(title: "Accuracy", xLabel: "epoch", yLabel: "accuracy")
    chart.integerX = true
    chart.xSpansData = true
    chart.yFormat = .percent
    chart.yLimits = 0...1
    add(\.trainAccuracy, "train accuracy", color: LineChart.palette[0], dashed: false, to: &chart)
    add(\.testAccuracy, "test accuracy", color: LineChart.palette[1], dashed: true, to: &chart)
    return chart
  }

  private func add(
    _ value: KeyPath<Epoch, Double?>, _ name: String, color: String, dashed: Bool, to chart: inout LineChart
  ) {
    let points = epochs.compactMap { epoch in epoch[keyPath: value].map { (x: Double(epoch.epoch), y: $0) } }
    if !points.isEmpty { chart.series.append(.init(name: name, points: points, color: color, dashed: dashed)) }
  }

  /// Both charts side by side (1120 × 420 pixels), with the subtitle above them.
  public func svg() -> SVGDocument {
    let top = subtitle == nil ? 0.0 : 26.0
    var svg = SVGDocument(width: 1120, height: 380 + top)
    svg.rect(x: 0, y: 0, width: svg.width, height: svg.height, fill: "#ffffff")
    if let subtitle { svg.text(subtitle, x: 560, y: 20, size: 13, anchor: .middle, fill: "#555555") }
    svg.place(lossChart.svg(), x: 0, y: top)
    svg.place(accuracyChart.svg(), x: 560, y: top)
    return svg
  }
}
