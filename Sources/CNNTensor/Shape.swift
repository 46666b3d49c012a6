/// The dimensions of a tensor, outermost first: `[N, C, H, W]` for an image batch,
/// `[N, F]` for a batch of feature vectors.
public struct Shape: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible,
  RandomAccessCollection
{
  /// The size of each dimension.
  public var dimensions: [Int]

  /// Creates a shape; every dimension must be zero or more.
  public init(_ dimensions: [Int]) {
    precondition(dimensions.allSatisfy { $0 >= 0 }, "Shape \(dimensions) has a negative dimension")
    self.dimensions = dimensions
  }

  public init(arrayLiteral elements: Int...) { self.init(elements) }

  /// The number of dimensions.
  public var rank: Int { dimensions.count }

  /// The number of scalars: the product of the dimensions (1 for a scalar shape `[]`).
  public var scalarCount: Int { dimensions.reduce(1, *) }

  public var startIndex: Int { 0 }
  public var endIndex: Int { dimensions.count }
  public subscript(position: Int) -> Int {
    get { dimensions[position] }
    set { dimensions[position] = newValue }
  }

  /// `[2, 3, 4]`.
  public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }
}

extension Shape {
  /// Concatenates dimension lists: `[1] + [1, 28, 28]` is `[1, 1, 28, 28]`.
  public static func + (lhs: Shape, rhs: Shape) -> Shape { Shape(lhs.dimensions + rhs.dimensions) }
}
