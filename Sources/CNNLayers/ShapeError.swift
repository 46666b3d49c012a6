import CNNTensor

/// An input shape that a layer cannot take: thrown by `outputShape(for:)`, reported by
/// `ModelSummary` under the layer's structural name, and printed by the CLI.
///
/// `description` reads `Conv2D: expects 1 channels, got 3 (expected [N, 1, H, W], got [8, 3, 28, 28])`.
/// A forward pass given such an input traps with the same text: inside the library a misfit
/// is a programmer error, while `outputShape(for:)` lets callers check user input first.
public struct ShapeError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The layer, by type and, where it helps, settings (`Conv2D`, `BatchNorm2D 64`).
  public var layer: String
  /// The shape the layer takes, as a pattern (`[N, 1, H, W]`, `[N, 400]`).
  public var expected: String
  /// The shape it was given.
  public var got: Shape
  /// What does not fit, in words (`expects 1 channels, got 3`).
  public var reason: String

  public init(layer: String, expected: String, got: Shape, reason: String) {
    self.layer = layer
    self.expected = expected
    self.got = got
    self.reason = reason
  }

  public var description: String { "\(layer): \(reason) (expected \(expected), got \(got))" }
}

/// The value of `body`, trapping with the error's description if the shape does not fit:
/// how forward passes, which take shapes the caller has checked, use `outputShape(for:)`.
@inline(__always)
func trappingOnShapeError<T>(_ body: () throws(ShapeError) -> T) -> T {
  do {
    return try body()
  } catch {
    preconditionFailure(error.description)
  }
}
