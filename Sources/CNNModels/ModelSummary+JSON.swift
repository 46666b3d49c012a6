import CNNTensor

/// The summary as JSON, for `cnn summary --json`.
extension ModelSummary {
  /// One JSON object: `model`, `input`, `output`, `layers` (each with `name`, `type`,
  /// `output_shape`, `shape_formula`, `parameters`, `parameter_formula`,
  /// `multiply_accumulates`, `activation_bytes`), `total_parameters`,
  /// `total_multiply_accumulates`, `total_activation_bytes` and `notes`. Shapes are per image,
  /// channels first. Each layer sits on its own line.
  public var json: String {
    func shape(_ shape: Shape) -> String { "[" + shape.dimensions.map(String.init).joined(separator: ",") + "]" }
    let layers = rows.map { row in
      "{\"name\":\(jsonString(row.name)),\"type\":\(jsonString(row.kind)),\"output_shape\":\(shape(row.outputShape)),"
        + "\"shape_formula\":\(jsonString(row.shapeFormula)),\"parameters\":\(row.parameterCount),"
        + "\"parameter_formula\":\(jsonString(row.parameterFormula)),"
        + "\"multiply_accumulates\":\(row.multiplyAccumulates),\"activation_bytes\":\(row.activationBytes)}"
    }
    var fields: [String] = []
    fields.append("\"model\":\(modelName.map(jsonString) ?? "null")")
    fields.append("\"input\":\(shape(inputShape))")
    fields.append("\"output\":\(shape(outputShape))")
    fields.append("\"layers\":[\n    " + layers.joined(separator: ",\n    ") + "\n  ]")
    fields.append("\"total_parameters\":\(totalParameters)")
    fields.append("\"total_multiply_accumulates\":\(totalMultiplyAccumulates)")
    fields.append("\"total_activation_bytes\":\(totalActivationBytes)")
    fields.append("\"notes\":[" + notes.map(jsonString).joined(separator: ",") + "]")
    return "{\n  " + fields.joined(separator: ",\n  ") + "\n}\n"
  }
}

/// A JSON string literal, escaping quotes, backslashes and control characters.
func jsonString(_ text: String) -> String {
  var result = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": result += "\\\""
    case "\\": result += "\\\\"
    case "\n": result += "\\n"
    case "\r": result += "\\r"
    case "\t": result += "\\t"
    case _ where scalar.value < 0x20:
      let hex = String(scalar.value, radix: 16)
      result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: result.unicodeScalars.append(scalar)
    }
  }
  return result + "\""
}
