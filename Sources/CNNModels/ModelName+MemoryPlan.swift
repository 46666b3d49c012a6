import CNNKernels
import CNNLayers
import CNNTensor

extension ModelName {
  /// The bytes building this network takes: each parameter's value and gradient as `Float32`.
  public static let bytesPerParameter = 8

  /// Checks that the network for `inputShape` and `classCount` fits, and says what it takes,
  /// without building it at that size.
  ///
  /// A copy is built at the network's own image size and class count (small), then its
  /// dense layers are resized on paper: the first after the flattening takes the features
  /// the requested image leaves (from a summary of the layers before it), and the last has
  /// one output per class. The arithmetic is overflow-checked, and the total
  /// (``bytesPerParameter`` per parameter) must fit ``MemoryBudget``.
  ///
  /// - Parameters:
  ///   - source: Where the shape and class count came from, for the message
  ///     (`"--input 1x8192x8192"`, `"run.safetensors"`).
  /// - Returns: The parameter count of the network as it will be built.
  /// - Throws: `ModelSummaryError` naming the layer an image too small for the network stops
  ///   at, or one whose `budget` is set when the network would not fit the memory budget.
  @discardableResult
  public func checkedParameterCount(inputShape shape: Shape, classCount classes: Int, source: String, strict: Bool = false)
    throws(ModelSummaryError) -> Int
  {
    try plan(inputShape: shape, classCount: classes, source: source, strict: strict).parameterCount
  }

  /// ``checkedParameterCount(inputShape:classCount:source:strict:)``, and the bytes of one
  /// image's activations (as `ModelSummary.totalActivationBytes` counts them, the dense
  /// layers' small outputs left out for networks sized by their input), still without
  /// building the network at that size.
  public func checkedPlan(inputShape shape: Shape, classCount classes: Int, source: String, strict: Bool = false)
    throws(ModelSummaryError) -> (parameterCount: Int, activationBytes: Int)
  {
    let plan = try plan(inputShape: shape, classCount: classes, source: source, strict: strict)
    return (plan.parameterCount, plan.activationBytes)
  }

  /// What building this network for some image shape and class count will take, checked
  /// before it is built (``checkedPlan(inputShape:classCount:source:strict:)``).
  public struct NetworkPlan {
    /// The network.
    public let modelName: ModelName
    /// `[C, H, W]`.
    public let inputShape: Shape
    public let classCount: Int
    /// Its parameters as it will be built.
    public let parameterCount: Int
    /// The bytes of one image's activations (see ``checkedPlan(inputShape:classCount:source:strict:)``).
    public let activationBytes: Int
    /// The probe network, when it already is the one planned.
    let exact: (any Layer)?

    /// Builds the planned network with every weight 0 (nothing drawn): load weights into it,
    /// or summarize it.
    public func makeNetwork() -> any Layer {
      if let exact { return exact }
      var generator = SeededGenerator(seed: 0)
      return modelName.make(
        inputShape: inputShape, classCount: classCount, initialization: .zeros, using: &generator)
    }
  }

  /// The checked plan of the network for `inputShape` and `classCount`: its parameter count
  /// and activation bytes, and a way to build it once the caller has checked what it needs.
  public func networkPlan(inputShape shape: Shape, classCount classes: Int, source: String, strict: Bool = false)
    throws(ModelSummaryError) -> NetworkPlan
  {
    try plan(inputShape: shape, classCount: classes, source: source, strict: strict)
  }

  /// The checked parameter count, activation bytes per image, and the probe network when it
  /// already is the one requested.
  private func plan(inputShape shape: Shape, classCount classes: Int, source: String, strict: Bool)
    throws(ModelSummaryError) -> NetworkPlan
  {
    guard shape.rank == 3, shape.dimensions.allSatisfy({ $0 > 0 }) else {
      throw ModelSummaryError(
        layer: nil, kind: nil, input: shape, reason: "\(rawValue) takes an image shape C×H×W with positive sizes")
    }
    guard classes > 0 else {
      throw ModelSummaryError(layer: nil, kind: nil, input: shape, reason: "the class count must be positive, got \(classes)")
    }
    let fixed = defaultInputShape
    var generator = SeededGenerator(seed: 0)
    let probe = make(
      inputShape: [shape[0], fixed[1], fixed[2]], classCount: defaultClassCount, initialization: .zeros,
      using: &generator)
    let dense = probe.parameters.map(\.value.shape).filter { $0.rank == 2 }  // Linear weights [out, in]
    var total: Int? = probe.parameterCount
    var flattened: Int?
    var activations = 0
    if isSizedByInput, shape[1] != fixed[1] || shape[2] != fixed[2] {
      // Built at its own image size, the layers up to the flattening are the same for any
      // size; check those at the requested size before sizing the dense layers.
      if let sequential = probe as? Sequential, let flatten = sequential.layers.firstIndex(where: { $0 is Flatten }) {
        let prefix = try ModelSummary(of: Sequential(Array(sequential.layers[..<flatten])), inputShape: shape, strict: strict)
        flattened = MemoryBudget.bytes(prefix.outputShape.dimensions)
        activations = prefix.totalActivationBytes
        if let first = dense.first {
          total = Self.resize(total, from: first[1], to: flattened, outputs: first[0])
        }
      }
    }
    if classes != defaultClassCount, let last = dense.last {
      let inputs = dense.count == 1 ? (flattened ?? last[1]) : last[1]
      // Remove the probe's classifier rows, add the requested ones (weights and biases).
      total = total.flatMap { MemoryBudget.sum([$0, -(last[0] * (inputs + 1))]) }
      total = MemoryBudget.sum([total, MemoryBudget.bytes([classes, inputs]), classes])
    }
    let text = shape.dimensions.map(String.init).joined(separator: "x")
    do {
      try MemoryBudget.check(
        total.flatMap { MemoryBudget.bytes([$0, Self.bytesPerParameter]) },
        for: "\(rawValue)'s weights and gradients" + (total.map { " (\(Self.grouped($0)) parameters)" } ?? ""),
        from: "\(source): \(text) images, \(classes) classes")
    } catch {
      throw ModelSummaryError(layer: nil, kind: nil, input: shape, reason: error.description, budget: error)
    }
    let exact = shape[1] == fixed[1] && shape[2] == fixed[2] || !isSizedByInput
    if exact {
      // The probe has the requested layers up to the classifier: summarize it at this size.
      activations = try ModelSummary(of: probe, inputShape: shape, strict: strict).totalActivationBytes
    }
    return NetworkPlan(
      modelName: self, inputShape: shape, classCount: classes, parameterCount: total ?? Int.max,
      activationBytes: activations, exact: exact && classes == defaultClassCount ? probe : nil)
  }

  /// The network for `inputShape` and `classCount`, built (with every weight 0, nothing
  /// drawn) only after ``checkedParameterCount(inputShape:classCount:source:strict:)``
  /// has passed. Load weights into it, or summarize it.
  public func checkedNetwork(inputShape shape: Shape, classCount classes: Int, source: String, strict: Bool = false)
    throws(ModelSummaryError) -> any Layer
  {
    try plan(inputShape: shape, classCount: classes, source: source, strict: strict).makeNetwork()
  }

  /// `total` with a dense layer of `outputs` resized from `old` inputs to `new`.
  private static func resize(_ total: Int?, from old: Int, to new: Int?, outputs: Int) -> Int? {
    guard let total, let new, let added = MemoryBudget.bytes([new, outputs]) else { return nil }
    return MemoryBudget.sum([total, added, -(old * outputs)])
  }

  /// `61,706`.
  static func grouped(_ value: Int) -> String {
    let digits = Array(String(value))
    var text = ""
    for (index, digit) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { text += "," }
      text.append(digit)
    }
    return text
  }
}
