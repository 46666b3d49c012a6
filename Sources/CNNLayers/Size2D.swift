/// A height and a width: a kernel size, a stride. An integer literal means a square.
public struct Size2D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
  public var height: Int
  public var width: Int

  public init(height: Int, width: Int) {
    self.height = height
    self.width = width
  }

  /// A square `size × size`.
  public init(_ size: Int) { self.init(height: size, width: size) }

  public init(integerLiteral value: Int) { self.init(value) }

  /// `3x3`, or `3x5` when not square.
  public var description: String { "\(height)x\(width)" }
}
