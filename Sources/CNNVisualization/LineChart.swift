import CNNData
/// A line chart with axes, ticks, grid lines, axis titles, a title and a legend, drawn as SVG.
///
///     var chart = LineChart(title: "Loss", xLabel: "epoch", yLabel: "cross-entropy")
///     chart.series.append(.init(name: "train", points: [(1, 0.9), (2, 0.4), (3, 0.3)]))
///     try chart.svg().write(to: "loss.svg")
///
/// The axes span "nice" round numbers (1, 2 or 5 times a power of ten) around the data; the
/// legend goes in whichever corner of the plot covers the fewest data.
public struct LineChart: Sendable {
  /// One named line.
  public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// A CSS colour; `nil` takes the next colour of ``palette``.
    public var color: String?
    /// Draws a dashed line (e.g. for test curves beside solid training curves).
    public var dashed: Bool

    public init(name: String, points: [(x: Double, y: Double)], color: String? = nil, dashed: Bool = false) {
      self.name = name
      self.points = points
      self.color = color
      self.dashed = dashed
    }
  }

  /// How tick labels show values.
  public enum ValueFormat: Sendable {
    /// `0.25`.
    case plain
    /// `0.25` shown as `25%`.
    case percent
  }

  /// Colour-blind-safe line colours (Okabe–Ito), used in order.
  public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series] = []
  /// How y tick labels read.
  public var yFormat: ValueFormat = .plain
  /// Limits the y axis never goes past (e.g. `0...1` for accuracy), even after rounding out.
  public var yLimits: ClosedRange<Double>?
  /// Whether x ticks must be whole numbers (epochs).
  public var integerX = false
  /// Whether the x axis spans exactly the data, from the first x to the last (epochs: the
  /// axis ends at the last epoch), with both ends labelled, instead of rounding out to a
  /// round number.
  public var xSpansData = false

  public init(title: String, xLabel: String, yLabel: String, series: [Series] = []) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
  }

  /// Margins around the plot area: room for the title, tick labels and axis titles.
  static let margin = (left: 70.0, right: 20.0, top: 40.0, bottom: 52.0)

  /// The chart as a standalone SVG document of `width × height` pixels.
  public func svg(width: Double = 560, height: Double = 380) -> SVGDocument {
    var svg = SVGDocument(width: width, height: height)
    svg.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
    let m = Self.margin
    let plot = (x: m.left, y: m.top, width: width - m.left - m.right, height: height - m.top - m.bottom)
    svg.text(title, x: m.left + plot.width / 2, y: 24, size: 15, anchor: .middle, bold: true)

    let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
    var xAxis = Axis.nice(
      min: all.map(\.x).min() ?? 0, max: all.map(\.x).max() ?? 1, integer: integerX, limits: nil)
    if xSpansData, let low = all.map(\.x).min(), let high = all.map(\.x).max(), high > low {
      xAxis = Axis.spanning(low: low, high: high, integer: integerX)
    }
    let yAxis = Axis.nice(min: all.map(\.y).min() ?? 0, max: all.map(\.y).max() ?? 1, integer: false, limits: yLimits)
    func px(_ x: Double) -> Double { plot.x + (x - xAxis.low) / (xAxis.high - xAxis.low) * plot.width }
    func py(_ y: Double) -> Double { plot.y + plot.height - (y - yAxis.low) / (yAxis.high - yAxis.low) * plot.height }

    // Grid, ticks and tick labels.
    for tick in yAxis.ticks {
      let y = py(tick)
      svg.line(x1: plot.x, y1: y, x2: plot.x + plot.width, y2: y, stroke: "#e3e3e3")
      svg.line(x1: plot.x - 5, y1: y, x2: plot.x, y2: y, stroke: "#444444")
      let label = yFormat == .percent ? Axis.format(tick * 100, step: yAxis.step * 100) + "%" : yAxis.label(tick)
      svg.text(label, x: plot.x - 8, y: y + 4, size: 11, anchor: .end, fill: "#444444")
    }
    for tick in xAxis.ticks {
      let x = px(tick)
      svg.line(x1: x, y1: plot.y, x2: x, y2: plot.y + plot.height, stroke: "#f0f0f0")
      svg.line(x1: x, y1: plot.y + plot.height, x2: x, y2: plot.y + plot.height + 5, stroke: "#444444")
      svg.text(xAxis.label(tick), x: x, y: plot.y + plot.height + 18, size: 11, anchor: .middle, fill: "#444444")
    }
    // Axes and their titles.
    svg.line(x1: plot.x, y1: plot.y + plot.height, x2: plot.x + plot.width, y2: plot.y + plot.height, stroke: "#222222")
    svg.line(x1: plot.x, y1: plot.y, x2: plot.x, y2: plot.y + plot.height, stroke: "#222222")
    svg.text(xLabel, x: plot.x + plot.width / 2, y: height - 12, size: 12, anchor: .middle)
    svg.text(yLabel, x: 18, y: plot.y + plot.height / 2, size: 12, anchor: .middle, rotation: -90)

    // The lines, with markers when there are few points.
    for (index, line) in series.enumerated() {
      let color = line.color ?? Self.palette[index % Self.palette.count]
      let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }.map { (x: px($0.x), y: py($0.y)) }
      svg.polyline(points, stroke: color, width: 2.2, dash: line.dashed ? "7 4" : nil)
      if points.count <= 40 {
        for point in points { svg.circle(cx: point.x, cy: point.y, r: 3, fill: color) }
      }
    }
    drawLegend(into: &svg, plot: plot, points: all.map { (x: px($0.x), y: py($0.y)) })
    return svg
  }

  /// The legend box, in the plot corner that hides the fewest data points.
  private func drawLegend(
    into svg: inout SVGDocument, plot: (x: Double, y: Double, width: Double, height: Double),
    points: [(x: Double, y: Double)]
  ) {
    guard !series.isEmpty else { return }
    let rowHeight = 18.0
    let longest = series.map(\.name.count).max() ?? 0
    let box = (width: 44 + Double(longest) * 6.6, height: Double(series.count) * rowHeight + 10)
    let inset = 10.0
    let corners = [
      (x: plot.x + plot.width - box.width - inset, y: plot.y + inset),  // top right
      (x: plot.x + plot.width - box.width - inset, y: plot.y + plot.height - box.height - inset),  // bottom right
      (x: plot.x + inset, y: plot.y + inset),  // top left
      (x: plot.x + inset, y: plot.y + plot.height - box.height - inset),  // bottom left
    ]
    // Count points (and midpoints of segments) under each corner's box.
    var samples = points
    if points.count > 1 {
      for i in 1..<points.count {
        samples.append((x: (points[i - 1].x + points[i].x) / 2, y: (points[i - 1].y + points[i].y) / 2))
      }
    }
    let covered = corners.map { corner in
      samples.filter {
        $0.x >= corner.x - 4 && $0.x <= corner.x + box.width + 4 && $0.y >= corner.y - 4 && $0.y <= corner.y + box.height + 4
      }.count
    }
    let best = covered.indices.min { covered[$0] < covered[$1] } ?? 0
    let origin = corners[best]
    svg.rect(
      x: origin.x, y: origin.y, width: box.width, height: box.height, fill: "#ffffff", stroke: "#bbbbbb")
    for (index, line) in series.enumerated() {
      let color = line.color ?? Self.palette[index % Self.palette.count]
      let y = origin.y + 5 + rowHeight * (Double(index) + 0.5)
      svg.line(x1: origin.x + 8, y1: y, x2: origin.x + 32, y2: y, stroke: color, width: 2.2, dash: line.dashed ? "7 4" : nil)
      svg.text(line.name, x: origin.x + 38, y: y + 4, size: 12)
    }
  }
}

/// An axis spanning round numbers: `low`, `high` and the `step` between ticks.
struct Axis {
  var low: Double
  var high: Double
  var step: Double

  /// Tick values chosen by ``spanning(low:high:integer:)``, or `nil` for every step.
  var explicitTicks: [Double]? = nil

  /// The tick values from `low` to `high`.
  var ticks: [Double] {
    if let explicitTicks { return explicitTicks }
    let count = Int(((high - low) / step).rounded())
    return (0...max(0, count)).map { low + Double($0) * step }
  }

  /// An axis from exactly `low` to exactly `high`: ticks at both ends and at the round
  /// multiples of the step between them, leaving out a multiple closer than a quarter step
  /// to an end (`1, 5, 10, 12` for epochs 1…12).
  static func spanning(low: Double, high: Double, integer: Bool) -> Axis {
    var step = niceNumber((high - low) / 5)
    if integer { step = Swift.max(1, step.rounded()) }
    var ticks = [low]
    var tick = ((low / step).rounded(.down) + 1) * step
    while tick < high - step / 4 + 1e-9 {
      if tick - low >= step / 4 - 1e-9 { ticks.append(tick) }
      tick += step
    }
    ticks.append(high)
    return Axis(low: low, high: high, step: step, explicitTicks: ticks)
  }

  /// A tick label with as many decimals as the step needs.
  func label(_ value: Double) -> String { Self.format(value, step: step) }

  /// About five ticks of 1, 2 or 5 × 10ᵏ covering `min...max`, clamped to `limits`.
  static func nice(min: Double, max: Double, integer: Bool, limits: ClosedRange<Double>?) -> Axis {
    var low = min, high = max
    if high - low < 1e-12 {
      let pad = abs(low) > 1e-12 ? abs(low) * 0.1 : 1
      low -= pad
      high += pad
    }
    var step = niceNumber((high - low) / 5)
    if integer { step = Swift.max(1, step.rounded()) }
    low = (low / step).rounded(.down) * step
    high = (high / step).rounded(.up) * step
    if let limits {
      low = Swift.max(low, limits.lowerBound)
      high = Swift.min(high, limits.upperBound)
      if high <= low { high = low + step }
    }
    return Axis(low: low, high: high, step: step)
  }

  /// The smallest 1, 2, 5 × 10ᵏ at least `value`.
  static func niceNumber(_ value: Double) -> Double {
    guard value > 0 && value.isFinite else { return 1 }
    var power = 1.0
    while power * 10 <= value { power *= 10 }
    while power > value { power /= 10 }
    let fraction = value / power  // in [1, 10)
    let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
    return nice * power
  }

  /// `value` with the decimals that `step` needs (`0.25` for step 0.05, `3` for step 1).
  static func format(_ value: Double, step: Double) -> String {
    var decimals = 0
    var scaled = step
    while decimals < 6 && abs(scaled - scaled.rounded()) > 1e-9 * Swift.max(1, abs(scaled)) {
      scaled *= 10
      decimals += 1
    }
    return fixed(value, decimals: decimals)
  }
}

/// `value` with exactly `decimals` digits after the point (`fixed(0.5, decimals: 2)` is `0.50`).
func fixed(_ value: Double, decimals: Int) -> String {
  var factor = 1.0
  for _ in 0..<decimals { factor *= 10 }
  let scaled = (abs(value) * factor).rounded()
  guard scaled < 9e15 else { return String(value) }
  let integer = Int(scaled)
  let sign = value < 0 && integer != 0 ? "-" : ""
  if decimals == 0 { return sign + String(integer) }
  let whole = integer / Int(factor), fraction = integer % Int(factor)
  let digits = String(fraction)
  return sign + String(whole) + "." + String(repeating: "0", count: decimals - digits.count) + digits
}
