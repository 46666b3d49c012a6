/// The table `cnn summary` prints.
extension ModelSummary {
  /// A table with one row per layer and the totals, followed by any notes:
  ///
  /// ```
  /// layer  type                         output    output size                   parameters  parameter arithmetic      MACs         activations
  /// 0      Conv2D 3→96 11x11 s4 valid   96×55×55  (227 + 2·0 − 11)/4 + 1 = 55       34,944  11·11·3·96 + 96 = 34,944  105,415,200  1.1 MiB
  /// ```
  public var table: String { table(width: nil) }

  /// The table in at most `width` columns where it can be: when the full table is wider, the
  /// two formula columns leave the table and each layer's arithmetic follows its row on an
  /// indented line (wrapped at spaces), so `cnn summary` fits a 120-column terminal:
  ///
  /// ```
  /// conv1.conv   Conv2D 3→64 7x7 s2 p3 no-bias   64×112×112   9,408   118,013,952   3.1 MiB
  ///     output size ⌊(224 + 2·3 − 7)/2⌋ + 1 = 112; parameters 7·7·3·64 = 9,408
  /// ```
  ///
  /// `nil` (``table``) keeps every column in the table whatever its width.
  public func table(width: Int?) -> String {
    let header = [
      "layer", "type", "output", "output size", "parameters", "parameter arithmetic", "MACs", "activations",
    ]
    var lines: [[String]] = [header]
    for row in rows {
      lines.append([
        row.name.isEmpty ? "(top)" : row.name, row.kind, dimensionsText(row.outputShape), row.shapeFormula,
        grouped(row.parameterCount), row.parameterFormula,
        row.multiplyAccumulates == 0 ? "" : grouped(row.multiplyAccumulates), byteCount(row.activationBytes),
      ])
    }
    lines.append([
      "total", "", dimensionsText(outputShape), "", grouped(totalParameters), "",
      grouped(totalMultiplyAccumulates), byteCount(totalActivationBytes),
    ])
    var text =
      "\(modelName ?? "model"): input \(dimensionsText(inputShape)) → output \(dimensionsText(outputShape))\n\n"
    let full = Self.render(lines, rightAligned: [4, 6, 7])
    if let width, full.contains(where: { $0.count > width }) {
      // Without the formula columns (3 and 5), each row followed by its arithmetic.
      let kept = [0, 1, 2, 4, 6, 7]
      let compact = Self.render(lines.map { line in kept.map { line[$0] } }, rightAligned: [3, 4, 5])
      for (index, line) in compact.enumerated() {
        text += line + "\n"
        let rowIndex = index - 2  // after the header and its rule
        guard rowIndex >= 0, rowIndex < rows.count else { continue }
        let row = lines[rowIndex + 1]
        var parts: [String] = []
        if !row[3].isEmpty { parts.append("output size " + row[3]) }
        if !row[5].isEmpty { parts.append("parameters " + row[5]) }
        if !parts.isEmpty { text += Self.wrap(parts.joined(separator: "; "), first: "    ", then: "        ", width: width) }
      }
    } else {
      text += full.map { $0 + "\n" }.joined()
    }
    let totals =
      "\(grouped(totalParameters)) parameters (\(byteCount(4 * totalParameters)) as Float32), "
      + "\(grouped(totalMultiplyAccumulates)) multiply-accumulates and \(byteCount(totalActivationBytes)) "
      + "of activations per image."
    text += "\n" + (width.map { Self.wrap(totals, first: "", then: "", width: $0) } ?? totals + "\n")
    if !notes.isEmpty {
      text += "\nNotes:\n"
      text += notes.map { note in width.map { Self.wrap(note, first: "- ", then: "  ", width: $0) } ?? "- \(note)\n" }
        .joined()
    }
    return text
  }

  /// The header, a rule, the rows, a rule and the totals (the last line), in aligned columns.
  private static func render(_ lines: [[String]], rightAligned: Set<Int>) -> [String] {
    var widths = [Int](repeating: 0, count: lines[0].count)
    for line in lines {
      for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
    }
    func render(_ line: [String]) -> String {
      let cells = line.enumerated().map { column, cell in
        let fill = String(repeating: " ", count: widths[column] - cell.count)
        return rightAligned.contains(column) ? fill + cell : cell + fill
      }
      return String(cells.joined(separator: "  ").reversed().drop(while: { $0 == " " }).reversed())
    }
    let rule = render(widths.map { String(repeating: "-", count: $0) })
    return [render(lines[0]), rule] + lines.dropFirst().dropLast().map(render) + [rule, render(lines[lines.count - 1])]
  }

  /// `text` after `first`, broken at spaces into lines of at most `width` characters (a word
  /// longer than that stays whole), each further line starting with `then`.
  static func wrap(_ text: String, first: String, then: String, width: Int) -> String {
    var result = ""
    var line = first
    var lineHasWord = false
    for word in text.split(separator: " ") {
      if lineHasWord && line.count + 1 + word.count > width {
        result += line + "\n"
        line = then
        lineHasWord = false
      }
      line += (lineHasWord ? " " : "") + word
      lineHasWord = true
    }
    return result + line + "\n"
  }
}

/// `512 B`, `283.6 KiB`, `1.1 MiB`, `2.0 GiB`.
func byteCount(_ bytes: Int) -> String {
  let units = ["KiB", "MiB", "GiB", "TiB"]
  guard bytes >= 1024 else { return "\(bytes) B" }
  var value = Double(bytes) / 1024
  var unit = 0
  while value >= 1024 && unit < units.count - 1 {
    value /= 1024
    unit += 1
  }
  let tenths = Int((value * 10).rounded())
  return "\(tenths / 10).\(tenths % 10) \(units[unit])"
}
