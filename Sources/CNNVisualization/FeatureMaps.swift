import CNNData
import CNNLayers
import CNNTensor

/// The feature maps (activations) of every convolution layer of a network for one input,
/// and their pictures: the seeds' "feature maps get more abstract layer by layer".
///
/// ``trace(_:input:children:)`` runs the network in inference mode, one sublayer at a time,
/// and keeps the output of each `Conv2D` after the shape-keeping layers that directly follow
/// it (batch normalization, ReLU, sigmoid, tanh): what the next stage sees. It descends into
/// `Sequential`s, the bodies of `Residual` blocks and the branches of `Concatenate`s, and into
/// any container for which `children` returns its sublayers in the order they run.
public enum FeatureMaps {
  /// The output of one convolution stage for one image.
  public struct Activation: Sendable {
    /// The structural name of the convolution (`"0"`, `"layer1.0.conv1"`).
    public var name: String
    /// What produced it: `"Conv2D 5x5 + ReLU"`.
    public var description: String
    /// `[1, K, OH, OW]`.
    public var maps: Tensor
  }

  /// Runs `model` on `input` (`[1, C, H, W]`) and collects the convolution stages' outputs.
  ///
  /// - Parameters:
  ///   - model: The network.
  ///   - input: One image, `[1, C, H, W]`.
  ///   - children: The sublayers of containers this module does not know, in the order
  ///     they run, each with its structural name (or `nil` for a layer to run whole).
  /// - Returns: The stages in the order they ran, and the network's output.
  public static func trace(
    _ model: any Layer, input: Tensor,
    children: (any Layer) -> [(name: String, layer: any Layer)]? = { _ in nil }
  ) -> (activations: [Activation], output: Tensor) {
    precondition(input.shape.rank == 4 && input.shape[0] == 1, "FeatureMaps.trace expects one image [1, C, H, W], got \(input.shape)")
    return withoutActuallyEscaping(children) { children in
      var tracer = Tracer(children: children)
      let output = tracer.run(model, input, path: "")
      return (tracer.activations, output)
    }
  }

  private struct Tracer {
    let children: (any Layer) -> [(name: String, layer: any Layer)]?
    var activations: [Activation] = []
    /// Whether the last layer run was a convolution stage that may still absorb a
    /// following batch norm or activation.
    var openStage = false

    mutating func run(_ layer: any Layer, _ x: Tensor, path: String) -> Tensor {
      func join(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
      if let sequence = layer as? Sequential {
        return sequence.layers.enumerated().reduce(x) { y, child in run(child.element, y, path: join("\(child.offset)")) }
      }
      if let parts = children(layer) {
        return parts.reduce(x) { y, part in run(part.layer, y, path: join(part.name)) }
      }
      if let residual = layer as? Residual {
        _ = run(residual.body, x, path: path)  // the body's names are the block's own
        if let downsample = residual.downsample { _ = run(downsample, x, path: join("downsample")) }
        openStage = false
        return residual(x)
      }
      if let concatenation = layer as? Concatenate {
        for (index, branch) in concatenation.branches.enumerated() {
          _ = run(branch, x, path: join("branch\(index + 1)"))
        }
        openStage = false
        return concatenation(x)
      }
      let y = layer(x)
      if let conv = layer as? Conv2D, y.shape.rank == 4 {
        activations.append(Activation(name: path, description: "Conv2D \(conv.kernelSize)", maps: y))
        openStage = true
      } else if openStage, y.shape == x.shape, let suffix = Self.stageSuffix(layer) {
        activations[activations.count - 1].maps = y
        activations[activations.count - 1].description += " + " + suffix
      } else {
        openStage = false
      }
      return y
    }

    static func stageSuffix(_ layer: any Layer) -> String? {
      switch layer {
      case is ReLU: return "ReLU"
      case is Sigmoid: return "sigmoid"
      case is Tanh: return "tanh"
      case is BatchNorm2D: return "BN"
      default: return nil
      }
    }
  }

  // MARK: - Pictures

  /// Columns for a grid of `count` tiles that is as square as possible and, where a divisor
  /// allows, has no short last row: the smallest divisor of `count` from √count up to 2√count
  /// (16 → 4, 32 → 8, 30 → 6, 120 → 12), else ⌈√count⌉.
  public static func squareishColumns(_ count: Int) -> Int {
    guard count > 1 else { return 1 }
    let root = Double(count).squareRoot()
    let low = Int(root.rounded(.up))
    for columns in low...max(low, Int(2 * root)) where count % columns == 0 { return columns }
    return low
  }

  /// Whether map `index` of `maps` (`[1, K, H, W]`) is dead: every value exactly zero, as a
  /// ReLU gives for a filter that no part of this input excites.
  public static func isDead(_ maps: Tensor, index: Int) -> Bool {
    let plane = maps.shape[2] * maps.shape[3]
    return maps.scalars[(index * plane)..<((index + 1) * plane)].allSatisfy { $0 == 0 }
  }

  /// The colour that marks a dead map.
  public static let deadMark = RGB(220, 40, 40)

  /// One stage's maps as a grid: each map min–max normalised on its own (a constant map is
  /// black), scaled up so maps are at least `minimumSide` pixels, at most `maxMaps` maps,
  /// `columns` per row (default: ``squareishColumns(_:)``, so 16 maps are 4×4 and 32 are 8×4), 1-pixel
  /// separators. A dead map (all zero) is crossed out in ``deadMark``.
  /// Maps of a single value (1×1, as after LeNet-5's C5) share one scale across the layer
  /// instead, and are drawn as 16-pixel squares, since each alone would be constant.
  public static func grid(
    _ maps: Tensor, minimumSide: Int = 48, maxMaps: Int = 64, columns: Int? = nil
  ) -> Image {
    precondition(maps.shape.rank == 4 && maps.shape[0] == 1, "FeatureMaps.grid expects [1, K, H, W], got \(maps.shape)")
    let k = min(maps.shape[1], maxMaps), h = maps.shape[2], w = maps.shape[3]
    let isScalar = h * w == 1
    let side = isScalar ? min(minimumSide, 16) : minimumSide
    let scale = max(1, (side + max(h, w) - 1) / max(h, w))
    let layerLow = maps.scalars.prefix(k).min() ?? 0, layerHigh = maps.scalars.prefix(k).max() ?? 0
    let tileWidth = w * scale, tileHeight = h * scale
    let perRow = max(1, min(k, columns ?? squareishColumns(k)))
    let rows = (k + perRow - 1) / perRow
    var canvas = Canvas(width: perRow * (tileWidth + 1) + 1, height: rows * (tileHeight + 1) + 1, background: .white)
    maps.withUnsafeBufferPointer { values in
      for index in 0..<k {
        let plane = UnsafeBufferPointer(rebasing: values[(index * h * w)..<((index + 1) * h * w)])
        let low = isScalar ? layerLow : plane.min() ?? 0, high = isScalar ? layerHigh : plane.max() ?? 0
        let pixels = plane.map { high > low ? Image.byte(($0 - low) / (high - low)) : 0 }
        let tile = Image(width: w, height: h, channels: 1, pixels: pixels).scaled(by: scale)
        let x = 1 + (index % perRow) * (tileWidth + 1), y = 1 + (index / perRow) * (tileHeight + 1)
        canvas.drawFramed(tile, x: x, y: y)
        if !isScalar && plane.allSatisfy({ $0 == 0 }) {
          // Dead: a red cross over the tile, two pixels thick where the tile allows.
          let thickness = tileWidth >= 16 ? 2 : 1
          for step in 0..<min(tileWidth, tileHeight) {
            let along = step * max(tileWidth, tileHeight) / min(tileWidth, tileHeight)
            canvas.fill(x: x + along, y: y + step, width: thickness, height: 1, color: deadMark)
            canvas.fill(x: x + tileWidth - thickness - along, y: y + step, width: thickness, height: 1, color: deadMark)
          }
        }
      }
    }
    return canvas.image
  }

  /// The picture of one input going through a network: a title, the input image with the
  /// network's prediction (and the true label when known) beside it, then every stage's
  /// grid under a label such as `0  Conv2D 5x5 + ReLU  30 maps of 24x24, 2 dead (crossed)`.
  ///
  /// - Parameters:
  ///   - title: What network this is, or `nil`.
  ///   - prediction: Lines printed beside the input, e.g. `["predicted: 7 (99.2%)", "label: 7"]`.
  public static func picture(
    input: Image?, activations: [Activation], maxMaps: Int = 64, title: String? = nil, prediction: [String] = []
  ) -> Image {
    let margin = 12, labelScale = 2, labelHeight = BitmapFont.glyphHeight * labelScale + 8
    var sections: [(label: String, image: Image, notes: [String])] = []
    if let input {
      let scale = max(1, (96 + max(input.width, input.height) - 1) / max(input.width, input.height))
      sections.append(("input  \(input.width)x\(input.height)", input.scaled(by: scale), prediction))
    }
    for activation in activations {
      let shape = activation.maps.shape
      let shown = shape[2] * shape[3] == 1 ? max(maxMaps, 256) : maxMaps
      let count = shape[1] > shown ? "first \(shown) of \(shape[1]) maps" : "\(shape[1]) maps"
      let name = activation.name.isEmpty ? "" : activation.name + "  "
      let dead = shape[2] * shape[3] == 1 ? 0 : (0..<min(shape[1], shown)).filter { isDead(activation.maps, index: $0) }.count
      var label = "\(name)\(activation.description)  \(count) of \(shape[3])x\(shape[2])"
      if shape[2] * shape[3] == 1 { label += ", one shared scale" }
      if dead > 0 { label += ", \(dead) dead (all zero, crossed out)" }
      sections.append((label, grid(activation.maps, maxMaps: shown), []))
    }
    let noteScale = 2, noteGap = 16
    func sectionWidth(_ section: (label: String, image: Image, notes: [String])) -> Int {
      let notes = section.notes.map { Canvas.textWidth($0, scale: noteScale) }.max().map { $0 + noteGap } ?? 0
      return max(section.image.width + notes, Canvas.textWidth(section.label, scale: labelScale))
    }
    let titleHeight = title == nil ? 0 : labelHeight + 6
    let width = max(sections.map(sectionWidth).max() ?? 1, title.map { Canvas.textWidth($0, scale: labelScale) } ?? 0)
    let height = sections.reduce(margin + titleHeight) { $0 + labelHeight + $1.image.height + margin }
    var canvas = Canvas(width: width + 2 * margin, height: max(1, height))
    var y = margin
    if let title {
      canvas.text(title, x: margin, y: y, color: RGB(10, 10, 10), scale: labelScale)
      y += titleHeight
    }
    for section in sections {
      canvas.text(section.label, x: margin, y: y, color: RGB(30, 30, 30), scale: labelScale)
      y += labelHeight
      canvas.draw(section.image, x: margin, y: y)
      for (index, note) in section.notes.enumerated() {
        canvas.text(
          note, x: margin + section.image.width + noteGap, y: y + 8 + index * (BitmapFont.lineHeight * noteScale + 6),
          color: index == 0 ? RGB(20, 90, 170) : RGB(60, 60, 60), scale: noteScale)
      }
      y += section.image.height + margin
    }
    return canvas.image
  }
}
