/// Watches a backward pass step by step, for work that can start as soon as some gradients are
/// final: data-parallel training starts summing them over the ranks while the earlier layers
/// still run backward (CNNTraining's `DataParallel`).
///
/// While one is bound as ``current``, every `Sequential`'s pullback (and so that of every model
/// built on one, `LayerChain`s included) calls ``stepFinished`` right after each of its steps
/// has run its own pullback, with that step:
///
///     let observer = BackwardObserver { step in print(step.parameters.count) }
///     BackwardObserver.$current.withValue(observer) { _ = pullback(dLogits) }
///
/// The parameters of a reported step have their final gradients for this batch, provided no
/// layer with parameters runs twice in one forward pass (true of every CNNKit model; a ReLU
/// that runs twice holds none). A step inside a reported step (a residual block's body) may be
/// reported first, on its own; the same parameters can so be reported more than once.
///
/// It is `@unchecked Sendable` only to be a task-local value: ``stepFinished`` runs on the
/// thread that bound it, the one that runs the pullback (the layers' worker threads never
/// call it).
public final class BackwardObserver: @unchecked Sendable {
  /// The observer of the backward pass running on this thread or task, if any.
  @TaskLocal public static var current: BackwardObserver?

  /// Called with each step whose pullback has finished.
  public let stepFinished: (any Layer) -> Void

  public init(_ stepFinished: @escaping (any Layer) -> Void) {
    self.stepFinished = stepFinished
  }
}
