import CNNData
/// A small SVG writer: shapes and text in user units (pixels), rendered to a standalone file
/// that any browser opens.
///
///     var svg = SVGDocument(width: 200, height: 100)
///     svg.rect(x: 0, y: 0, width: 200, height: 100, fill: "#ffffff")
///     svg.text("loss", x: 100, y: 50, anchor: .middle)
///     let file = svg.render()
///
/// Text is escaped; numbers are written with at most two decimals.
public struct SVGDocument: Sendable, Equatable {
  /// Where a text's `x` is: at its start, middle or end.
  public enum TextAnchor: String, Sendable {
    case start, middle, end
  }

  /// The canvas width in pixels.
  public var width: Double
  /// The canvas height in pixels.
  public var height: Double
  /// The elements, in drawing order (later on top).
  public private(set) var elements: [String] = []
  /// The font family of all text.
  public var fontFamily = "Helvetica, Arial, sans-serif"

  /// Creates an empty canvas.
  public init(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  /// A rectangle; `fill` and `stroke` are CSS colours (`"none"` for none).
  public mutating func rect(
    x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String = "none",
    strokeWidth: Double = 1
  ) {
    var element = "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"\(fill)\""
    if stroke != "none" { element += " stroke=\"\(stroke)\" stroke-width=\"\(n(strokeWidth))\"" }
    elements.append(element + "/>")
  }

  /// A straight line; `dash` is an SVG dash pattern such as `"6 4"`.
  public mutating func line(
    x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dash: String? = nil
  ) {
    var element = "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\""
    element += " stroke-width=\"\(n(width))\""
    if let dash { element += " stroke-dasharray=\"\(dash)\"" }
    elements.append(element + "/>")
  }

  /// A connected line through `points`.
  public mutating func polyline(
    _ points: [(x: Double, y: Double)], stroke: String, width: Double = 2, dash: String? = nil
  ) {
    let list = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
    var element = "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\""
    element += " stroke-linejoin=\"round\" stroke-linecap=\"round\""
    if let dash { element += " stroke-dasharray=\"\(dash)\"" }
    elements.append(element + "/>")
  }

  /// A filled circle.
  public mutating func circle(cx: Double, cy: Double, r: Double, fill: String) {
    elements.append("<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(fill)\"/>")
  }

  /// A line of text whose baseline starts (or is centred, or ends) at `(x, y)`;
  /// `rotation` turns it about that point, in degrees (−90 reads bottom to top).
  public mutating func text(
    _ content: String, x: Double, y: Double, size: Double = 12, anchor: TextAnchor = .start,
    fill: String = "#222222", bold: Bool = false, rotation: Double = 0
  ) {
    var element = "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" fill=\"\(fill)\""
    if anchor != .start { element += " text-anchor=\"\(anchor.rawValue)\"" }
    if bold { element += " font-weight=\"bold\"" }
    if rotation != 0 { element += " transform=\"rotate(\(n(rotation)) \(n(x)) \(n(y)))\"" }
    elements.append(element + ">\(Self.escape(content))</text>")
  }

  /// Draws `other` with its origin moved to `(x, y)`.
  public mutating func place(_ other: SVGDocument, x: Double, y: Double) {
    elements.append("<g transform=\"translate(\(n(x)) \(n(y)))\">")
    elements.append(contentsOf: other.elements)
    elements.append("</g>")
  }

  /// The whole file.
  public func render() -> String {
    var lines = [
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
        + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"\(fontFamily)\">",
    ]
    lines.append(contentsOf: elements)
    lines.append("</svg>")
    return lines.joined(separator: "\n") + "\n"
  }

  /// `&`, `<`, `>` and `"` as XML entities.
  public static func escape(_ text: String) -> String {
    var result = ""
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      default: result.append(character)
      }
    }
    return result
  }
}

/// A coordinate with at most two decimals and no trailing zeros: `12`, `12.5`, `0.25`.
func n(_ value: Double) -> String {
  guard value.isFinite else { return "0" }
  let rounded = (value * 100).rounded() / 100
  if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int(rounded)) }
  return String(rounded)
}
