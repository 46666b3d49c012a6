import CNNLayers
import CNNTensor

/// Updates parameters from their gradients, one step at a time.
///
/// `step(_:)` applies one update to each parameter from its `gradient` and then zeroes the
/// gradient, so the next backward pass accumulates from nothing. Optimizers that need memory
/// (velocities, moment estimates, accumulators, step counts) keep it themselves, per
/// parameter, keyed by the parameter's identity and created on the parameter's first step with
/// its shape. Passing the same `Parameter` objects every step is what keeps that state attached;
/// like PyTorch's, an optimizer holds on to every parameter it keeps state for.
///
/// Every optimizer here follows `torch.optim` exactly (update rule, defaults, and the order of
/// the floating-point operations where it matters), so runs can be compared with PyTorch.
///
/// ## Saving and restoring state
///
/// `stateTensors(for:)` exports the state as named tensors, and `loadState(_:for:)` imports it
/// into an optimizer of the same kind and configuration; the restored optimizer then continues
/// bit for bit as the original would have. Keys are `"<index>.<name>"`, where `index` is the
/// parameter's position in the list given (the same list, in the same order, as passed to
/// `step`) and `name` is PyTorch's name for the state:
///
/// | Optimizer | Names |
/// |---|---|
/// | `SGD` | `step`, and `momentum_buffer` when `momentum ≠ 0` |
/// | `AdaGrad` | `step`, `sum` |
/// | `RMSprop` | `step`, `square_avg`, then `momentum_buffer` when `momentum ≠ 0`, `grad_avg` when centered |
/// | `Adam` | `step`, `exp_avg`, `exp_avg_sq` |
/// | `Adadelta` | `step`, `square_avg`, `acc_delta` |
///
/// `"<index>.step"` is a scalar tensor (shape `[]`) holding the number of steps taken, exact up
/// to 2²⁴; the others have the parameter's shape. A parameter that has not been stepped has no
/// keys. Hyper-parameters, including `learningRate`, are configuration and are not exported.
public protocol Optimizer: AnyObject {
  /// The step size `lr`. Changing it between steps is how learning-rate schedules work.
  var learningRate: Float { get set }

  /// Applies one update to every parameter from its `gradient`, then zeroes the gradients.
  func step(_ parameters: [Parameter])

  /// The state kept for `parameters`, keyed `"<index>.<name>"` (see `Optimizer`).
  func stateTensors(for parameters: [Parameter]) -> [String: Tensor]

  /// Replaces the state kept for `parameters` with `state`, as exported by `stateTensors(for:)`
  /// from an optimizer of the same kind and configuration.
  ///
  /// Everything is checked before anything changes: on error the optimizer is untouched.
  /// Parameters without keys in `state` start afresh.
  /// - Throws: `OptimizerStateError` for an unknown key, a missing one, a tensor whose shape is
  ///   not its parameter's, or a step count that is not a whole number ≥ 1.
  func loadState(_ state: [String: Tensor], for parameters: [Parameter]) throws(OptimizerStateError)
}
