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
    try checkHoldsModel(name, inputShape: shape, classCount: classCount)
    var model = try Self.build(name, inputShape: shape, classCount: classes)
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
        model = try Self.build(name, inputShape: shape, classCount: classes)
      }
    }
    try checkFinite()
    try apply(to: model, strict: true)
    return (model, ModelConfiguration(modelName: name, inputShape: shape, classCount: classes))
  }

  /// Refuses a model tensor holding NaN or an infinity, naming it and the first such value.
  /// - Throws: `CheckpointError.nonFiniteTensor`.
  public func checkFinite() throws(CheckpointError) {
    for (name, tensor) in tensors {
      var first: (index: Int, value: Float)?
      var count = 0
      tensor.withUnsafeBufferPointer { values in
        for index in values.indices where !values[index].isFinite {
          if first == nil { first = (index, values[index]) }
          count += 1
        }
      }
      if let first { throw .nonFiniteTensor(key: name, index: first.index, value: first.value, count: count) }
    }
  }

  /// Refuses, before the model is built, a configuration whose layers the checkpoint's tensors
  /// cannot hold: a strict load needs every weight in the file, so a model larger than the
  /// file could never load, and building it first would allocate what the metadata claims.
  /// (A 150-byte file naming `simple-convnet` with `input_shape` `[1, 8192, 8192]` made the
  /// loader ask for 200 GB for the first dense layer.) Checked: the classifier has at least one
  /// weight per class, and a network sized by its input has, in its first dense layer at the
  /// requested image size, no more weights than the tensors hold in all.
  func checkHoldsModel(_ name: ModelName, inputShape: Shape, classCount: Int?) throws(CheckpointError) {
    let held = tensors.reduce(0) { $0 + $1.tensor.shape.scalarCount }
    if let classCount, classCount > held {
      throw .invalidConfiguration(
        "\(name.rawValue) for \(classCount) classes needs at least \(classCount) weights in its classifier; "
          + "the checkpoint holds \(held) values in all")
    }
    let fixed = name.defaultInputShape
    guard name.isSizedByInput, inputShape.rank == 3, inputShape.dimensions.allSatisfy({ $0 > 0 }),
      inputShape[1] != fixed[1] || inputShape[2] != fixed[2]
    else { return }
    // Built at its own image size, the layers before the flattening are the same for any size
    // (as in `ModelSummary(model:)`): their output at the requested size sizes the dense layer.
    var generator = SeededGenerator(seed: 0)
    let probe = name.make(inputShape: [inputShape[0], fixed[1], fixed[2]], classCount: 1, using: &generator)
    guard let sequential = probe as? Sequential, let flatten = sequential.layers.firstIndex(where: { $0 is Flatten }),
      let dense = sequential.layers[flatten...].lazy.compactMap({ $0 as? Linear }).first
    else { return }
    let features: Int
    do {
      features = try ModelSummary(of: Sequential(Array(sequential.layers[..<flatten])), inputShape: inputShape)
        .outputShape.scalarCount
    } catch {
      throw .invalidConfiguration(error.description)
    }
    let (weights, overflow) = features.multipliedReportingOverflow(by: dense.outputFeatures)
    if overflow || weights > held {
      throw .invalidConfiguration(
        "\(name.rawValue) for \(inputShape) images has \(features) features after flattening, so its first dense "
          + "layer needs \(overflow ? "more than \(Int.max)" : String(weights)) weights; the checkpoint holds "
          + "\(held) values in all")
    }
  }

  /// Builds `name` with throwaway weights, checking first what would otherwise trap.
  static func build(_ name: ModelName, inputShape: Shape, classCount: Int) throws(CheckpointError) -> any Layer {
    guard inputShape.rank == 3, inputShape.dimensions.allSatisfy({ $0 > 0 }) else {
      throw .invalidConfiguration("\(name.rawValue) takes an image shape [C, H, W] with positive sizes, got \(inputShape)")
    }
    guard classCount > 0 else { throw .invalidConfiguration("the class count must be positive, got \(classCount)") }
    do {
      return try name.checkedNetwork(inputShape: inputShape, classCount: classCount, source: "the checkpoint's metadata")
    } catch {
      if let budget = error.budget { throw .memoryBudget(budget) }
      throw .invalidConfiguration(error.description)
    }
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
