import CNNLayers
import CNNTensor
import Testing

@testable import CNNOptimizers

// Reference trajectories: every per-optimizer test runs 3 steps from `startValue` with the
// gradients in `stepGradients` and compares the parameter after each step with PyTorch 2.15.0
// (`torch.optim`, computed in float64 so the numbers are the exact algorithm, not float32
// rounding). Configurations with a large `ε` check where `ε` enters the formula. They were printed by this script and pasted in unchanged:
//
//     import torch
//     torch.set_default_dtype(torch.float64)
//     p0 = [1.0, -2.0, 0.5]
//     grads = [[0.5, -1.0, 2.0], [-0.25, 0.75, 1.5], [0.125, 0.5, -3.0]]
//     cases = {  # name: optimizer factory; the Swift tests name the same configurations
//       "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
//       "sgdMomentumDampeningDecay": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01),
//       "sgdNesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
//       "adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1),
//       "adagradDecays": lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.1, eps=0.1),
//       "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01),
//       "rmspropCenteredMomentumDecay": lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.9, centered=True, eps=0.1),
//       "rmspropMomentum": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, eps=0.1),
//       "rmspropCentered": lambda ps: torch.optim.RMSprop(ps, lr=0.01, centered=True),
//       "adam": lambda ps: torch.optim.Adam(ps, lr=0.1),
//       "adamL2": lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.99), eps=0.1, weight_decay=0.1),
//       "adamW": lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1),
//       "adadelta": lambda ps: torch.optim.Adadelta(ps),
//       "adadeltaDecay": lambda ps: torch.optim.Adadelta(ps, lr=0.5, rho=0.5, eps=0.01, weight_decay=0.1),
//     }
//     for name, make in cases.items():
//       p = torch.nn.Parameter(torch.tensor(p0)); opt = make([p]); rows = []
//       for g in grads:
//         p.grad = torch.tensor(g); opt.step(); rows.append(p.detach().tolist())
//       print(name, rows)

/// The parameter's value before the first step.
let startValue: [Float] = [1.0, -2.0, 0.5]
/// The gradient given at steps 1, 2 and 3 (all exact in binary).
let stepGradients: [[Float]] = [[0.5, -1.0, 2.0], [-0.25, 0.75, 1.5], [0.125, 0.5, -3.0]]

/// Runs `optimizer` for three steps on a fresh `[3]` parameter and returns its value after each.
func trajectory(_ optimizer: any Optimizer) -> [[Float]] {
  let parameter = Parameter(Tensor(shape: [3], scalars: startValue))
  return stepGradients.map { gradient in
    parameter.gradient = Tensor(shape: [3], scalars: gradient)
    optimizer.step([parameter])
    return parameter.value.scalars
  }
}

/// Expects `actual` within `1e-6·|expected| + 1e-7` of `expected`, element by element. The
/// absolute term covers values near zero, where float32 keeps ~1e-8 of absolute accuracy.
func expectClose(_ actual: [[Float]], _ expected: [[Double]], sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(actual.count == expected.count, sourceLocation: sourceLocation)
  for (step, (row, expectedRow)) in zip(actual, expected).enumerated() {
    #expect(row.count == expectedRow.count, sourceLocation: sourceLocation)
    for (i, (a, e)) in zip(row, expectedRow).enumerated() {
      let error = abs(Double(a) - e)
      #expect(
        error <= 1e-6 * abs(e) + 1e-7, "step \(step + 1), element \(i): \(a) vs \(e) (error \(error))",
        sourceLocation: sourceLocation)
    }
  }
}

/// A named optimizer factory, for parameterized tests.
struct OptimizerCase: Sendable, CustomTestStringConvertible {
  let name: String
  let make: @Sendable () -> any Optimizer
  var testDescription: String { name }

  /// Every kind at its defaults, plus the configurations that keep every optional state slot.
  static let all: [OptimizerCase] =
    OptimizerKind.allCases.map { kind in OptimizerCase(name: kind.rawValue) { kind.make(learningRate: nil) } } + [
      OptimizerCase(name: "sgd-dampened-momentum") { SGD(learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) },
      OptimizerCase(name: "rmsprop-centered-momentum") { RMSprop(weightDecay: 0.01, momentum: 0.9, centered: true) },
      OptimizerCase(name: "adagrad-decays") { AdaGrad(learningRateDecay: 0.1, weightDecay: 0.01, initialAccumulatorValue: 0.1) },
      OptimizerCase(name: "adam-l2") { Adam(weightDecay: 0.01) },
    ]
}

/// Deterministic gradients for several parameters over several steps.
func randomGradients(for parameters: [Parameter], steps: Int, seed: UInt64) -> [[Tensor]] {
  var generator = SeededGenerator(seed: seed)
  return (0..<steps).map { _ in parameters.map { Tensor.randomNormal($0.shape, using: &generator) } }
}

/// Sets each parameter's gradient and steps once.
func step(_ optimizer: any Optimizer, _ parameters: [Parameter], gradients: [Tensor]) {
  for (parameter, gradient) in zip(parameters, gradients) { parameter.gradient = gradient }
  optimizer.step(parameters)
}

/// The bit patterns of every element, so that comparisons are exact (and -0 ≠ 0).
func bits(_ tensors: [Tensor]) -> [[UInt32]] { tensors.map { $0.scalars.map(\.bitPattern) } }
