import CNNData

extension SVGDocument {
  /// Writes the document as an `.svg` file (UTF-8).
  public func write(to path: String) throws {
    try writeBytes(Array(render().utf8), to: path)
  }
}
