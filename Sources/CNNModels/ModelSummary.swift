import CNNKernels
import CNNLayers
import CNNTensor

/// A layer-by-layer account of a network for one image: each layer's output shape and the
/// formula that produced it, its parameters and their arithmetic, its multiply-accumulates
/// and the memory of its output; `cnn summary` prints it.
///
/// The walk descends into containers (`Sequential`, `LayerChain` models, `Residual`,
/// `Concatenate`) and reports their leaf layers under structural names (`features.3`,
/// `layer1.0.conv1`, `inception3a.branch2.1.conv`), plus one row where a residual adds its
/// shortcut or a concatenation joins its branches. Shapes are checked without running
/// anything and without trapping: an input that leaves some layer with a non-positive size
/// throws a `ModelSummaryError` naming that layer.
///
/// Window sizes follow `ConvGeometry`: `OH = ⌊(H + 2P − K)/S⌋ + 1`. When the division is not
/// exact, the window skips the last rows; the row's formula shows the floor and `notes` says
/// so, or, with `strict`, the summary throws instead, as the seeds' formula expects whole
/// numbers.
///
/// Multiply-accumulates count convolutions (`K·OH·OW·(C/G)·KH·KW`) and dense layers (`F·O`),
/// the usual "FLOPs ÷ 2"; element-wise layers, pooling and normalization are not counted.
/// Activation memory is the output of each row as `Float32`, for one image.
public struct ModelSummary: Sendable {
  /// One layer, or one merge of a residual or concatenation.
  public struct Row: Sendable, Equatable {
    /// The structural name, the prefix of the layer's parameter names (`layer1.0.conv1`).
    public var name: String
    /// The layer type and its settings (`Conv2D 3→96 11x11 s4 valid`).
    public var kind: String
    /// The output for one image, without the batch dimension (`[96, 55, 55]`).
    public var outputShape: Shape
    /// How the output size follows from the input (`(227 + 2·0 − 11)/4 + 1 = 55`); empty
    /// when the shape is unchanged.
    public var shapeFormula: String
    /// Learned scalars of this layer (for containers, none of their own).
    public var parameterCount: Int
    /// `11·11·3·96 + 96 = 34,944`; empty when there are no parameters.
    public var parameterFormula: String
    /// Multiply-accumulates for one image.
    public var multiplyAccumulates: Int
    /// Bytes of the output for one image (`Float32`).
    public var activationBytes: Int
  }

  /// The network's name, when built from a `ModelName`.
  public var modelName: String?
  /// `[C, H, W]` of one image.
  public var inputShape: Shape
  /// The network's output for one image (`[classCount]` for a classifier).
  public var outputShape: Shape
  /// The rows, in the order the layers run.
  public var rows: [Row]
  /// Remarks, such as windows that do not tile their input exactly.
  public var notes: [String]

  /// The sum of every row's parameters: the network's `parameterCount`.
  public var totalParameters: Int { rows.reduce(0) { $0 + $1.parameterCount } }
  /// Multiply-accumulates for one image.
  public var totalMultiplyAccumulates: Int { rows.reduce(0) { $0 + $1.multiplyAccumulates } }
  /// Bytes of all outputs for one image: what training keeps for the backward pass, roughly.
  public var totalActivationBytes: Int { rows.reduce(0) { $0 + $1.activationBytes } }

  /// Summarizes `layer` for one image of `inputShape` (`[C, H, W]`, or any per-sample shape).
  ///
  /// - Parameter strict: Treat a window that does not tile its input exactly (a non-integer
  ///   `(H + 2P − K)/S`) as an error rather than a note.
  /// - Throws: `ModelSummaryError` naming the first layer the input does not fit.
  public init(of layer: any Layer, inputShape: Shape, modelName: String? = nil, strict: Bool = false)
    throws(ModelSummaryError)
  {
    guard inputShape.rank >= 1, inputShape.dimensions.allSatisfy({ $0 > 0 }) else {
      throw ModelSummaryError(layer: nil, kind: nil, input: inputShape, reason: "every dimension must be positive")
    }
    var walker = SummaryWalker(strict: strict)
    let output = try walker.walk(layer, name: "", input: [1] + inputShape)
    self.modelName = modelName
    self.inputShape = inputShape
    self.outputShape = Shape(Array(output.dimensions.dropFirst()))
    self.rows = walker.rows
    self.notes = walker.notes
  }

  /// Builds the network `model` for `inputShape` and `classCount` (by default the model's own)
  /// and summarizes it.
  ///
  /// A network sized by its input is first checked with its layers before the flattening,
  /// so an image too small for it throws instead of trapping while it is built. The weights
  /// play no part in a summary, so they are left at 0 (nothing is drawn).
  public init(
    model: ModelName, inputShape: Shape? = nil, classCount: Int? = nil, strict: Bool = false,
    using generator: inout some RandomNumberGenerator
  ) throws(ModelSummaryError) {
    let shape = inputShape ?? model.defaultInputShape
    let classes = classCount ?? model.defaultClassCount
    guard shape.rank == 3, shape.dimensions.allSatisfy({ $0 > 0 }) else {
      throw ModelSummaryError(
        layer: nil, kind: nil, input: shape, reason: "\(model.rawValue) takes an image shape C×H×W with positive sizes")
    }
    guard classes > 0 else {
      throw ModelSummaryError(
        layer: nil, kind: nil, input: shape, reason: "the class count must be positive, got \(classes)")
    }
    // Checks what would trap or exhaust memory before the network is built at this size.
    let network = try model.checkedNetwork(
      inputShape: shape, classCount: classes, source: "the requested network", strict: strict)
    try self.init(of: network, inputShape: shape, modelName: model.rawValue, strict: strict)
  }
}

/// An input that does not fit a network, naming the layer where it stops fitting.
public struct ModelSummaryError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The structural name of the layer (`features.12`), or `nil` when the input itself is invalid.
  public var layer: String?
  /// The layer's type and settings.
  public var kind: String?
  /// The shape (for one image) that reached the layer.
  public var input: Shape
  /// What does not fit.
  public var reason: String
  /// The layer's own error, with the batch dimension, when the layer's `outputShape(for:)`
  /// rejected the input (`nil` for the summary's own checks).
  public var shapeError: ShapeError?
  /// Set when the network would not fit the memory budget (`reason` is its description).
  public var budget: MemoryBudgetError?

  public init(
    layer: String?, kind: String?, input: Shape, reason: String, shapeError: ShapeError? = nil,
    budget: MemoryBudgetError? = nil
  ) {
    self.layer = layer
    self.kind = kind
    self.input = input
    self.reason = reason
    self.shapeError = shapeError
    self.budget = budget
  }

  public var description: String {
    if let budget { return budget.description }
    guard let layer else { return "invalid input \(dimensionsText(input)): \(reason)" }
    return "layer \(layer.isEmpty ? "(top)" : layer) (\(kind ?? "?")) cannot take its input "
      + "\(dimensionsText(input)): \(reason)"
  }
}

/// `96×55×55`: a per-image shape, channels first.
func dimensionsText(_ shape: Shape) -> String {
  shape.dimensions.map(String.init).joined(separator: "×")
}

/// The recursive walk behind `ModelSummary`.
struct SummaryWalker {
  let strict: Bool
  var rows: [ModelSummary.Row] = []
  var notes: [String] = []

  init(strict: Bool) { self.strict = strict }

  /// Appends the rows of `layer` (named `name`) for `input` (with the batch dimension) and
  /// returns its output shape.
  mutating func walk(_ layer: any Layer, name: String, input: Shape) throws(ModelSummaryError) -> Shape {
    switch layer {
    case let sequential as Sequential:
      var shape = input
      for child in sequential.children {
        shape = try walk(child.layer, name: join(name, child.name), input: shape)
      }
      return shape
    case let chain as any LayerChain:
      var shape = input
      for step in chain.namedChain {
        shape = try walk(step.layer, name: join(name, step.name), input: shape)
      }
      return shape
    case let residual as Residual:
      return try walkResidual(residual, name: name, input: input)
    case let concatenate as Concatenate:
      return try walkConcatenate(concatenate, name: name, input: input)
    default:
      return try summarizeLeaf(layer, name: name, input: input)
    }
  }

  private mutating func walkResidual(_ residual: Residual, name: String, input: Shape) throws(ModelSummaryError)
    -> Shape
  {
    let main = try walk(residual.body, name: name, input: input)
    var skip = input
    if let downsample = residual.downsample {
      skip = try walk(downsample, name: join(name, "downsample"), input: input)
    }
    let kind = "Residual add" + (residual.activation.map { " + \(typeName($0))" } ?? "")
    guard main == skip else {
      throw ModelSummaryError(
        layer: name, kind: kind, input: perImage(input),
        reason: "the body gives \(dimensionsText(perImage(main))) but the "
          + "\(residual.downsample == nil ? "identity shortcut" : "downsample") gives \(dimensionsText(perImage(skip)))"
      )
    }
    let output: Shape
    do {
      output = try residual.activation?.outputShape(for: main) ?? main
    } catch {
      throw ModelSummaryError(layer: name, kind: kind, input: perImage(input), reason: error.reason, shapeError: error)
    }
    let shortcut = residual.downsample == nil ? "x" : "downsample(x)"
    rows.append(
      ModelSummary.Row(
        name: name, kind: kind, outputShape: perImage(output),
        shapeFormula: "F(x) + \(shortcut): \(dimensionsText(perImage(main)))",
        parameterCount: residual.activation?.parameterCount ?? 0, parameterFormula: "", multiplyAccumulates: 0,
        activationBytes: 4 * output.scalarCount))
    return output
  }

  private mutating func walkConcatenate(_ concatenate: Concatenate, name: String, input: Shape)
    throws(ModelSummaryError) -> Shape
  {
    var outputs: [Shape] = []
    for (index, branch) in concatenate.branches.enumerated() {
      outputs.append(try walk(branch, name: join(name, "branch\(index + 1)"), input: input))
    }
    let kind = "Concatenate \(outputs.count) branches"
    switch Concatenate.joinedShape(outputs) {
    case .failure(let error):
      throw ModelSummaryError(layer: name, kind: kind, input: perImage(input), reason: error.description)
    case .success(let output):
      let channels = outputs.map { String($0[1]) }.joined(separator: " + ")
      rows.append(
        ModelSummary.Row(
          name: name, kind: kind, outputShape: perImage(output),
          shapeFormula: outputs.count > 1 ? "\(channels) = \(output[1]) channels" : "",
          parameterCount: 0, parameterFormula: "", multiplyAccumulates: 0, activationBytes: 4 * output.scalarCount))
      return output
    }
  }

  private mutating func summarizeLeaf(_ layer: any Layer, name: String, input: Shape) throws(ModelSummaryError) -> Shape
  {
    let leaf: LeafSummary
    if let summarizable = layer as? any SummarizableLayer {
      do {
        leaf = try summarizable.summarize(input: input)
      } catch {
        throw ModelSummaryError(
          layer: name, kind: summarizable.summaryKind, input: perImage(input), reason: error.reason, shapeError: error)
      }
    } else {
      // A layer this walk does not know: its own shape inference.
      do {
        leaf = LeafSummary(
          kind: typeName(layer), output: try layer.outputShape(for: input), shapeFormula: "",
          parameters: layer.parameterCount, parameterFormula: "", multiplyAccumulates: 0, inexact: nil)
      } catch {
        throw ModelSummaryError(
          layer: name, kind: typeName(layer), input: perImage(input), reason: error.reason, shapeError: error)
      }
    }
    if let inexact = leaf.inexact {
      if strict {
        throw ModelSummaryError(layer: name, kind: leaf.kind, input: perImage(input), reason: inexact)
      }
      notes.append("\(name.isEmpty ? "(top)" : name): \(inexact)")
    }
    rows.append(
      ModelSummary.Row(
        name: name, kind: leaf.kind, outputShape: perImage(leaf.output), shapeFormula: leaf.shapeFormula,
        parameterCount: leaf.parameters, parameterFormula: leaf.parameterFormula,
        multiplyAccumulates: leaf.multiplyAccumulates, activationBytes: 4 * leaf.output.scalarCount))
    return leaf.output
  }

  private func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : "\(prefix).\(name)"
  }

  private func perImage(_ shape: Shape) -> Shape { Shape(Array(shape.dimensions.dropFirst())) }
}

/// `Conv2D`, without module qualification.
func typeName(_ layer: any Layer) -> String {
  String(describing: type(of: layer))
}
