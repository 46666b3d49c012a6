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
      "{\"name\":\(JSONText.quoted(row.name)),\"type\":\(JSONText.quoted(row.kind)),\"output_shape\":\(shape(row.outputShape)),"
        + "\"shape_formula\":\(JSONText.quoted(row.shapeFormula)),\"parameters\":\(row.parameterCount),"
        + "\"parameter_formula\":\(JSONText.quoted(row.parameterFormula)),"
        + "\"multiply_accumulates\":\(row.multiplyAccumulates),\"activation_bytes\":\(row.activationBytes)}"
    }
    var fields: [String] = []
    fields.append("\"model\":\(modelName.map(JSONText.quoted) ?? "null")")
    fields.append("\"input\":\(shape(inputShape))")
    fields.append("\"output\":\(shape(outputShape))")
    fields.append("\"layers\":[\n    " + layers.joined(separator: ",\n    ") + "\n  ]")
    fields.append("\"total_parameters\":\(totalParameters)")
    fields.append("\"total_multiply_accumulates\":\(totalMultiplyAccumulates)")
    fields.append("\"total_activation_bytes\":\(totalActivationBytes)")
    fields.append("\"notes\":[" + notes.map(JSONText.quoted).joined(separator: ",") + "]")
    return "{\n  " + fields.joined(separator: ",\n  ") + "\n}\n"
  }
}
