extension Shape {
  /// Reads an image shape written `C×H×W`: `1x28x28`, `3×32×32` or `3,224,224`; `nil` unless
  /// there are exactly three whole numbers, each in `1...maximum`.
  ///
  /// This is the one spelling every command's `--input` and `--input-shape` accepts.
  public init?(parsingImageShape text: String, maximum: Int = 1 << 20) {
    let parts = text.split(omittingEmptySubsequences: false) { $0 == "x" || $0 == "×" || $0 == "X" || $0 == "," }
    let values = parts.compactMap { Int($0) }
    guard parts.count == 3, values.count == 3, values.allSatisfy({ (1...maximum).contains($0) }) else { return nil }
    self.init(values)
  }
}
