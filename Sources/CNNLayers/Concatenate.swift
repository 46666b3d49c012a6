import CNNTensor

/// Parallel branches applied to the same input, their outputs joined along the channels:
/// the inception module's filter concatenation (Szegedy et al., 2014, "Going Deeper with
/// Convolutions", arXiv:1409.4842, figure 2).
///
/// Shape: input `[N, C, H, W]` → output `[N, K₁ + K₂ + … + K_b, OH, OW]`, where branch `i`
/// gives `[N, K_i, OH, OW]`; every branch must keep the same `N` and spatial size (and, more
/// generally, the same dimensions after the channel one).
///
/// Backward: the output gradient is split back into the branches' channel ranges and the
/// branches' input gradients are summed.
///
/// Names: branch `i` (from 1) is `branch{i}`, as in torchvision's `Inception`, so its
/// parameters read `branch1.conv.weight`, `branch2.0.conv.weight`, `branch4.1.bn.running_var`.
public final class Concatenate: Layer {
  /// The branches, in the order their channels appear in the output.
  public let branches: [any Layer]

  /// Creates a concatenation of the given branches.
  public init(_ branches: [any Layer]) {
    precondition(!branches.isEmpty, "Concatenate needs at least one branch")
    self.branches = branches
  }

  /// Creates a concatenation from a builder: `Concatenate { branch1; branch2; … }`.
  public convenience init(@LayerBuilder branches: () -> [any Layer]) {
    self.init(branches())
  }

  /// `branch1`, `branch2`, …
  static func branchName(_ index: Int) -> String { "branch\(index + 1)" }

  /// The branches under `branch1`, `branch2`, …
  public var children: [(name: String, layer: any Layer)] {
    branches.enumerated().map { (Self.branchName($0.offset), $0.element) }
  }

  /// The concatenated shape of the branch outputs, or a message saying why they do not join.
  public static func joinedShape(_ shapes: [Shape]) -> Result<Shape, ConcatenationError> {
    guard let first = shapes.first, first.rank >= 2 else { return .failure(ConcatenationError(shapes: shapes)) }
    for shape in shapes
    where shape.rank != first.rank || shape[0] != first[0]
      || Array(shape.dimensions.dropFirst(2)) != Array(first.dimensions.dropFirst(2))
    {
      return .failure(ConcatenationError(shapes: shapes))
    }
    var dimensions = first.dimensions
    dimensions[1] = shapes.reduce(0) { $0 + $1[1] }
    return .success(Shape(dimensions))
  }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    var outputs: [Shape] = []
    for branch in branches { outputs.append(try branch.outputShape(for: input)) }
    switch Self.joinedShape(outputs) {
    case .success(let shape): return shape
    case .failure(let error):
      throw ShapeError(
        layer: "Concatenate", expected: "branch outputs that differ only in channels", got: input,
        reason: error.description)
    }
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    Self.concatenate(branches.map { $0(input) })
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let results = branches.map { $0.forward(input, needsInputGradient: needsInputGradient) }
    let outputs = results.map(\.output)
    let output = Self.concatenate(outputs)
    let pullbacks = results.map(\.pullback)
    return (
      output,
      { dOutput in
        dOutput.expectShape(output.shape, "Concatenate pullback")
        var dInput: Tensor? = nil
        var channelStart = 0
        for (branchOutput, pullback) in zip(outputs, pullbacks) {
          let slice = Self.channels(of: dOutput, from: channelStart, shape: branchOutput.shape)
          channelStart += branchOutput.shape[1]
          let dBranch = pullback(slice)
          if needsInputGradient { dInput = dInput.map { $0 + dBranch } ?? dBranch }
        }
        return dInput ?? .zeros([0])
      }
    )
  }

  /// Joins tensors `[N, K_i, …]` into `[N, ΣK_i, …]`.
  static func concatenate(_ tensors: [Tensor]) -> Tensor {
    let shape: Shape
    switch joinedShape(tensors.map(\.shape)) {
    case .success(let joined): shape = joined
    case .failure(let error): preconditionFailure("Concatenate: \(error)")
    }
    let batch = shape[0]
    let totalRow = shape.scalarCount / max(1, batch)
    return Tensor(
      shape: shape,
      writingWith: { y in
        var offset = 0
        for tensor in tensors {
          let row = tensor.scalarCount / max(1, batch)
          tensor.withPointer { x in
            for n in 0..<batch { (y + n * totalRow + offset).update(from: x + n * row, count: row) }
          }
          offset += row
        }
      })
  }

  /// The channels `start ..< start + shape[1]` of `tensor`, as a tensor of `shape`.
  static func channels(of tensor: Tensor, from start: Int, shape: Shape) -> Tensor {
    let batch = shape[0]
    let row = shape.scalarCount / max(1, batch)
    let totalRow = tensor.scalarCount / max(1, batch)
    let plane = row / max(1, shape[1])
    return Tensor(
      shape: shape,
      writingWith: { y in
        tensor.withPointer { x in
          for n in 0..<batch { (y + n * row).update(from: x + n * totalRow + start * plane, count: row) }
        }
      })
  }
}

/// Branch outputs that cannot be concatenated along the channels.
public struct ConcatenationError: Error, CustomStringConvertible, Sendable {
  /// The branch output shapes.
  public var shapes: [Shape]

  public var description: String {
    "branch outputs \(shapes.map(\.description).joined(separator: ", ")) differ outside the channel dimension"
  }
}
