import ArgumentParser
import CNNKit
import Foundation

extension Visualize {
  /// `cnn visualize filters`.
  struct Filters: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Draw a convolution layer's filters as a grid of tiles, with a title and a scale bar (PNG).",
      discussion: """
        Each filter is normalised on its own (its most negative weight black, its most positive \
        white) and scaled up; 3-channel filters are drawn in colour. A deeper layer (other channel \
        counts) is summarised: one row for each of its first 16 filters, showing the 8 input \
        channels each filter weighs most. The seeds' "before and after" picture, edges appearing \
        in the first layer, is one command after training with the seeds' recipe:
          cnn train --init normal=0.01 --epochs 20 --augment none --schedule constant --checkpoint seeds.safetensors
          cnn visualize filters --checkpoint seeds.safetensors --before-after -o filters.png
        (the filters before training are rebuilt from the run's seed and initialisation).
        """)

    @OptionGroup var source: ModelSource

    @Option(help: "The convolution: its structural name (`0`, `layer1.0.conv1`, with or without `.weight`) or its position (`#2`); default: the first. See --list.")
    var layer: String?

    @Flag(help: "List the convolution layers and their weight shapes, and draw nothing.")
    var list = false

    @Flag(help: "With --checkpoint: draw the filters the run started from (same seed and initialisation) beside the trained ones.")
    var beforeAfter = false

    @Flag(help: "Draw the grid alone, without title, labels and scale bar.")
    var bare = false

    @Option(help: "Pixels per weight (default: tiles about 40 pixels wide).")
    var scale: Int?

    @Option(help: "Tiles per row for 1- and 3-channel filters (default: about the square root of the filter count).")
    var columns: Int?

    @Option(help: "The most filters drawn (default: 256 for 1- and 3-channel filters, 16 for deeper layers).")
    var maxFilters: Int?

    @Option(help: "For deeper layers, the input channels drawn per filter, strongest first (default 8).")
    var maxChannels: Int = 8

    @Option(name: [.short, .long], help: "The PNG file to write.")
    var output: String?

    func validate() throws {
      if !list && output == nil { throw ValidationError("Give -o FILE.png (or --list).") }
      if let output {
        try checkOutputName(output, option: "--output", extensions: ["png"], content: "filters are drawn as PNG")
      }
      if let scale, !(1...FilterGrid.maximumScale).contains(scale) {
        throw ValidationError("--scale must be 1 to \(FilterGrid.maximumScale) (got \(scale)).")
      }
      if let columns, columns < 1 { throw ValidationError("--columns must be at least 1 (got \(columns)).") }
      if let maxFilters, !(1...4096).contains(maxFilters) {
        throw ValidationError("--max-filters must be 1 to 4096 (got \(maxFilters)).")
      }
      if !(1...512).contains(maxChannels) { throw ValidationError("--max-channels must be 1 to 512 (got \(maxChannels)).") }
      if beforeAfter && source.checkpoint == nil {
        throw ValidationError("--before-after needs --checkpoint FILE: the trained filters and the run that started them.")
      }
    }

    /// The chosen convolution's name and weight in `network`.
    func chosen(in network: any Layer, origin: String) throws -> (name: String, weight: Tensor) {
      let convolutions = FilterGrid.convolutionWeights(in: network)
      guard !convolutions.isEmpty else { throw PictureError("\(origin) has no convolution layers.") }
      guard let layer else { return convolutions[0] }
      let wanted = layer.hasSuffix("weight") ? layer : layer + ".weight"
      if layer.hasPrefix("#"), let position = Int(layer.dropFirst()), convolutions.indices.contains(position - 1) {
        return convolutions[position - 1]
      } else if let match = convolutions.first(where: { $0.name == wanted || $0.name == layer }) {
        return match
      }
      let names = convolutions.map { $0.name.replacingOccurrences(of: ".weight", with: "") }
      throw PictureError("No convolution named '\(layer)'. The convolutions are: \(names.joined(separator: ", ")) (or #1…#\(names.count)).")
    }

    func grid(_ weight: Tensor) -> FilterGrid {
      var grid = FilterGrid(weights: weight, scale: scale, columns: columns)
      let deep = !(weight.shape[1] == 1 || weight.shape[1] == 3)
      grid.maxFilters = maxFilters ?? (deep ? 16 : 256)
      grid.maxChannels = maxChannels
      if !bare { grid.separator = weight.shape[1] == 3 ? 4 : 2 }
      return grid
    }

    func run() throws {
      let (restored, origin) = try source.load()
      let network = restored.model
      if list {
        for (index, entry) in FilterGrid.convolutionWeights(in: network).enumerated() {
          print("#\(index + 1)  \(entry.name)  \(entry.weight.shape)")
        }
        if FilterGrid.convolutionWeights(in: network).isEmpty { throw PictureError("\(origin) has no convolution layers.") }
        return
      }
      let chosen = try chosen(in: network, origin: origin)
      let layerName = chosen.name.hasSuffix(".weight") ? String(chosen.name.dropLast(7)) : chosen.name
      let grid = grid(chosen.weight)
      try MemoryBudget.check(
        grid.pictureBytes.flatMap { MemoryBudget.bytes([$0, beforeAfter ? 2 : 1]) }, for: "the picture of \(chosen.name)",
        from: "--scale \(grid.scale), \(chosen.weight.shape)")
      var picture = bare ? grid.image() : grid.picture(title: origin, layer: layerName)
      if beforeAfter {
        guard let run = restored.run else {
          throw PictureError("\(source.checkpoint ?? "The checkpoint") holds no run, so the filters it started from are unknown.")
        }
        let initial = run.makeInitialModel().model
        let before = try self.chosen(in: initial, origin: origin).weight
        let beforeGrid = self.grid(before)
        let initialization = run.initialization?.description ?? "the model's own initialisation"
        let beforeTitle = "\(run.model.rawValue) before training (seed \(run.seed), \(initialization))"
        let beforePicture = bare ? beforeGrid.image() : beforeGrid.picture(title: beforeTitle, layer: layerName)
        picture = Image.sideBySide([("", beforePicture), ("", picture)], gap: 24)
      }
      if let output { try writePicture(picture, to: output) }
      let shape = chosen.weight.shape
      print("\(origin): \(chosen.name) \(shape), \(min(shape[0], grid.maxFilters)) filters drawn")
    }
  }
}
