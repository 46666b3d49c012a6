import CNNKernels
import CNNLayers
import CNNModels
import CNNTensor

extension Checkpoint {
  /// What `apply(to:strict:)` skipped: keys the model has and the checkpoint lacks, and keys
  /// the checkpoint has and the model lacks (both empty after a strict apply).
  public struct ApplyReport: Equatable, Sendable {
    public var missing: [String]
    public var unexpected: [String]
  }

  /// Builds the model the checkpoint describes and loads its tensors (strictly).
  ///
  /// The architecture is the checkpoint's `modelName`, or `requested` for a file without
  /// CNNKit metadata (a plain PyTorch `state_dict`). The image shape is the checkpoint's, else
  /// `inputShape`, else the model's default with its channels read from the first
  /// convolution's weight; the class count is the checkpoint's, else read from the shape of
  /// the last linear layer's weight.
  ///
  /// - Parameters:
  ///   - requested: The architecture; required when the checkpoint names none, and must
  ///     agree with it otherwise.
  ///   - inputShape: `[C, H, W]` for a file that does not record it; networks sized by their
  ///     input (`simple-convnet`, `lenet5`, …) need the shape they were trained at.
  /// - Throws: `CheckpointError.modelNameRequired`, `.modelMismatch`, `.invalidConfiguration`,
  ///   or `.stateMismatch` listing missing, unexpected and mis-shaped keys.
  public func makeModel(_ requested: ModelName? = nil, inputShape requestedShape: Shape? = nil) throws(CheckpointError)
    -> any Layer
  {
    try makeModelAndConfiguration(requested, inputShape: requestedShape).model
  }

  /// The architecture, image shape and class count a model is built with.
  public struct ModelConfiguration: Equatable, Sendable {
    public var modelName: ModelName
    /// `[C, H, W]`.
    public var inputShape: Shape
    public var classCount: Int
  }

  /// `makeModel(_:inputShape:)`, and the configuration it settled on (what a plain
  /// `state_dict` did not record: the image shape to feed it, the class count).
  public func makeModelAndConfiguration(_ requested: ModelName? = nil, inputShape requestedShape: Shape? = nil)
    throws(CheckpointError) -> (model: any Layer, configuration: ModelConfiguration)
  {
    let name: ModelName
    switch (modelName, requested) {
    case (let saved?, let asked?) where saved != asked:
      throw .modelMismatch(checkpoint: saved.rawValue, requested: asked.rawValue)
    case (let saved?, _): name = saved
    case (nil, let asked?): name = asked
    case (nil, nil): throw .modelNameRequired
    }
    var shape = inputShape ?? requestedShape ?? name.defaultInputShape
    var classes = classCount ?? name.defaultClassCount
    // The first build is a probe when the file leaves the shape or the classes to be read off
    // its tensors: only what the metadata states is held against the file before it.
    let held = tensors.reduce(0) { $0 + $1.tensor.shape.scalarCount }
    let statesAll = (inputShape != nil || requestedShape != nil) && classCount != nil
    var model = try Self.build(name, inputShape: shape, classCount: classes, holding: held, statedClasses: classCount != nil, exact: statesAll)
    if inputShape == nil || classCount == nil {
      // Read what the metadata does not say from the tensors the probe model names.
      let weights = model.namedParameters.filter { $0.name.hasSuffix("weight") }
      if inputShape == nil, requestedShape == nil, let first = weights.first(where: { $0.parameter.shape.rank == 4 }),
        let stored = tensor(named: first.name), stored.shape.rank == 4
      {
        shape[0] = stored.shape[1]
      }
      if classCount == nil, let last = weights.last(where: { $0.parameter.shape.rank == 2 }),
        let stored = tensor(named: last.name), stored.shape.rank == 2, stored.shape[0] > 0
      {
        classes = stored.shape[0]
      }
      if shape != (inputShape ?? requestedShape ?? name.defaultInputShape) || classes != (classCount ?? name.defaultClassCount) {
        model = try Self.build(name, inputShape: shape, classCount: classes, holding: held, statedClasses: true, exact: true)
      }
    }
    try checkFinite()
    try apply(to: model, strict: true)
    return (model, ModelConfiguration(modelName: name, inputShape: shape, classCount: classes))
  }

  /// Refuses a model tensor holding NaN or an infinity, naming it and the first such value.
  /// - Throws: `CheckpointError.nonFiniteTensor`.
  public func checkFinite() throws(CheckpointError) {
    for (name, tensor) in tensors { try Self.checkFinite(tensor, key: name) }
  }

  /// Refuses `tensor` if it holds NaN or an infinity, naming `key` and the first such value.
  /// - Throws: `CheckpointError.nonFiniteTensor`.
  static func checkFinite(_ tensor: Tensor, key: String) throws(CheckpointError) {
    var first: (index: Int, value: Float)?
    var count = 0
    tensor.withUnsafeBufferPointer { values in
      for index in values.indices where !values[index].isFinite {
        if first == nil { first = (index, values[index]) }
        count += 1
      }
    }
    if let first { throw .nonFiniteTensor(key: key, index: first.index, value: first.value, count: count) }
  }

  /// Builds `name` for `inputShape` and `classCount` once the checkpoint is known to hold it.
  ///
  /// A strict load needs every weight in the file, so a network with more parameters than the
  /// file holds values could never load, and building it first would allocate what the
  /// metadata claims. (A 150-byte file naming `simple-convnet` with `input_shape`
  /// `[1, 8192, 8192]` made the loader ask for 200 GB for the first dense layer; a 100-byte file
  /// naming `vgg16` built its 138 million parameters.) Checked, in order of cost: the
  /// parameters of `name` at any size (``ModelName/shapeIndependentParameterCount``, nothing
  /// built), one classifier weight per class, then the exact count of the network as planned
  /// (a small probe built at the network's own size) against the budget and the file.
  ///
  /// - Parameters:
  ///   - statedClasses: Whether `classCount` is the file's own (else a default).
  ///   - exact: Whether the shape and class count are the file's own (else the network is a
  ///     probe built to read them off the tensors, and the exact count is not checked).
  static func build(
    _ name: ModelName, inputShape: Shape, classCount: Int, holding held: Int, statedClasses: Bool, exact: Bool
  ) throws(CheckpointError) -> any Layer
  {
    if name.shapeIndependentParameterCount > held {
      throw .invalidConfiguration(
        "\(name.rawValue) has at least \(name.shapeIndependentParameterCount) parameters at any image size; "
          + "the checkpoint holds \(held) values in all")
    }
    if statedClasses, classCount > held {
      throw .invalidConfiguration(
        "\(name.rawValue) for \(classCount) classes needs at least \(classCount) weights in its classifier; "
          + "the checkpoint holds \(held) values in all")
    }
    guard inputShape.rank == 3, inputShape.dimensions.allSatisfy({ $0 > 0 }) else {
      throw .invalidConfiguration("\(name.rawValue) takes an image shape [C, H, W] with positive sizes, got \(inputShape)")
    }
    guard classCount > 0 else { throw .invalidConfiguration("the class count must be positive, got \(classCount)") }
    let plan: ModelName.NetworkPlan
    do {
      plan = try name.networkPlan(inputShape: inputShape, classCount: classCount, source: "the checkpoint's metadata")
    } catch {
      if let budget = error.budget { throw .memoryBudget(budget) }
      throw .invalidConfiguration(error.description)
    }
    if exact, plan.parameterCount > held {
      let size = inputShape.dimensions.map(String.init).joined(separator: "×")
      throw .invalidConfiguration(
        "\(name.rawValue) for \(size) images and \(classCount) classes has \(plan.parameterCount) parameters; "
          + "the checkpoint holds \(held) values in all")
    }
    return plan.makeNetwork()
  }

  /// Copies the checkpoint's tensors into the parameters and buffers of `model` with the same
  /// structural names, like PyTorch's `load_state_dict`.
  ///
  /// Everything is checked before anything changes: on error `model` is untouched. A shape
  /// mismatch is always an error; with `strict`, so are keys missing from the checkpoint and
  /// keys the model lacks. A missing `num_batches_tracked` is never an error (older PyTorch
  /// files lack it; the model's own count stays).
  @discardableResult
  public func apply(to model: any Layer, strict: Bool = true) throws(CheckpointError) -> ApplyReport {
    let parameters = model.namedParameters
    let buffers = model.namedBuffers
    let expected = parameters.map { ($0.name, $0.parameter.shape) } + buffers.map { ($0.name, $0.buffer.shape) }
    var provided: [String: Tensor] = [:]
    for (name, tensor) in tensors where provided[name] == nil { provided[name] = tensor }
    let expectedNames = Set(expected.map(\.0))

    var missing: [String] = []
    var mismatched: [CheckpointError.ShapeMismatch] = []
    for (name, shape) in expected {
      guard let tensor = provided[name] else {
        if !name.hasSuffix("num_batches_tracked") { missing.append(name) }
        continue
      }
      if tensor.shape != shape { mismatched.append(.init(key: name, expected: shape, found: tensor.shape)) }
    }
    let unexpected = tensors.map(\.name).filter { !expectedNames.contains($0) }
    if !mismatched.isEmpty || (strict && !(missing.isEmpty && unexpected.isEmpty)) {
      throw .stateMismatch(
        model: modelName?.rawValue ?? "\(type(of: model))", missing: strict ? missing : [],
        unexpected: strict ? unexpected : [], mismatched: mismatched)
    }
    for (name, parameter) in parameters {
      if let tensor = provided[name] { parameter.value = tensor }
    }
    for (name, buffer) in buffers {
      if let tensor = provided[name] { buffer.value = tensor }
    }
    return ApplyReport(missing: missing, unexpected: unexpected)
  }
}
