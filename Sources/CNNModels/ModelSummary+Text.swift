/// The table `cnn summary` prints.
extension ModelSummary {
  /// A table with one row per layer and the totals, followed by any notes:
  ///
  /// ```
  /// layer  type                         output    output size                   parameters  parameter arithmetic      MACs         activations
  /// 0      Conv2D 3→96 11x11 s4 valid   96×55×55  (227 + 2·0 − 11)/4 + 1 = 55       34,944  11·11·3·96 + 96 = 34,944  105,415,200  1.1 MiB
  /// ```
  public var table: String {
    let header = [
      "layer", "type", "output", "output size", "parameters", "parameter arithmetic", "MACs", "activations",
    ]
    let rightAligned: Set<Int> = [4, 6, 7]
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
    var widths = [Int](repeating: 0, count: header.count)
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
    var text =
      "\(modelName ?? "model"): input \(dimensionsText(inputShape)) → output \(dimensionsText(outputShape))\n\n"
    text += render(header) + "\n"
    text += render(widths.map { String(repeating: "-", count: $0) }) + "\n"
    for line in lines.dropFirst().dropLast() { text += render(line) + "\n" }
    text += render(widths.map { String(repeating: "-", count: $0) }) + "\n"
    text += render(lines[lines.count - 1]) + "\n"
    text +=
      "\n\(grouped(totalParameters)) parameters (\(byteCount(4 * totalParameters)) as Float32), "
      + "\(grouped(totalMultiplyAccumulates)) multiply-accumulates and \(byteCount(totalActivationBytes)) "
      + "of activations per image.\n"
    if !notes.isEmpty {
      text += "\nNotes:\n" + notes.map { "- \($0)\n" }.joined()
    }
    return text
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
