import CNNLayers
import CNNTensor
import Testing

@testable import CNNOptimizers

/// What every optimizer promises beyond its formula: zeroed gradients, state per parameter,
/// exact save and restore, and clear errors for a state that does not fit.
@Suite struct OptimizerStateTests {
  func makeParameters() -> [Parameter] {
    var generator = SeededGenerator(seed: 11)
    return [Tensor.randomNormal([4, 3], using: &generator), Tensor.randomNormal([3], using: &generator)].map(Parameter.init)
  }

  @Test(arguments: OptimizerCase.all)
  func stepZeroesTheGradients(_ optimizerCase: OptimizerCase) {
    let parameters = makeParameters()
    let optimizer = optimizerCase.make()
    step(optimizer, parameters, gradients: randomGradients(for: parameters, steps: 1, seed: 1)[0])
    for parameter in parameters {
      #expect(parameter.gradient.shape == parameter.shape)
      #expect(parameter.gradient.scalars.allSatisfy { $0 == 0 })
    }
  }

  /// Stepping two parameters together equals stepping each with its own optimizer.
  @Test(arguments: OptimizerCase.all)
  func stateIsPerParameter(_ optimizerCase: OptimizerCase) {
    let together = makeParameters()
    let apart = together.map { Parameter($0.value) }
    let gradients = randomGradients(for: together, steps: 3, seed: 2)
    let shared = optimizerCase.make()
    let separate = apart.map { _ in optimizerCase.make() }
    for stepGradients in gradients {
      step(shared, together, gradients: stepGradients)
      for (i, parameter) in apart.enumerated() { step(separate[i], [parameter], gradients: [stepGradients[i]]) }
    }
    #expect(bits(together.map(\.value)) == bits(apart.map(\.value)))
  }

  /// A parameter first stepped late starts from fresh state while the others keep theirs.
  @Test func stateIsCreatedOnAParametersFirstStep() {
    let parameters = makeParameters()
    let gradients = randomGradients(for: parameters, steps: 3, seed: 3)
    let optimizer = Adam(learningRate: 0.1)
    step(optimizer, [parameters[0]], gradients: [gradients[0][0]])
    step(optimizer, [parameters[0]], gradients: [gradients[1][0]])
    #expect(optimizer.stateTensors(for: parameters).keys.sorted() == ["0.exp_avg", "0.exp_avg_sq", "0.step"])

    let late = Parameter(parameters[1].value)
    step(optimizer, parameters, gradients: gradients[2])
    step(Adam(learningRate: 0.1), [late], gradients: [gradients[2][1]])
    #expect(bits([parameters[1].value]) == bits([late.value]))
    let state = optimizer.stateTensors(for: parameters)
    #expect(state["0.step"]?.scalars == [3])
    #expect(state["1.step"]?.scalars == [1])
    #expect(state["1.step"]?.shape == [])
  }

  @Test func exportedKeysUsePyTorchsNames() {
    let parameters = makeParameters()
    func keys(_ optimizer: any Optimizer) -> [String] {
      step(optimizer, parameters, gradients: randomGradients(for: parameters, steps: 1, seed: 4)[0])
      return optimizer.stateTensors(for: parameters).keys.filter { $0.hasPrefix("1.") }.sorted()
    }
    #expect(keys(SGD(learningRate: 0.1)) == ["1.step"])
    #expect(keys(SGD(learningRate: 0.1, momentum: 0.9)) == ["1.momentum_buffer", "1.step"])
    #expect(keys(AdaGrad()) == ["1.step", "1.sum"])
    #expect(keys(RMSprop()) == ["1.square_avg", "1.step"])
    #expect(keys(RMSprop(momentum: 0.9, centered: true)) == ["1.grad_avg", "1.momentum_buffer", "1.square_avg", "1.step"])
    #expect(keys(Adam()) == ["1.exp_avg", "1.exp_avg_sq", "1.step"])
    #expect(keys(Adadelta()) == ["1.acc_delta", "1.square_avg", "1.step"])
  }

  /// Export after two steps, import into a fresh optimizer, and both continue bit for bit.
  @Test(arguments: OptimizerCase.all)
  func exportAndImportResumeExactly(_ optimizerCase: OptimizerCase) throws {
    let original = makeParameters()
    let gradients = randomGradients(for: original, steps: 4, seed: 5)
    let optimizer = optimizerCase.make()
    step(optimizer, original, gradients: gradients[0])
    step(optimizer, original, gradients: gradients[1])

    let saved = optimizer.stateTensors(for: original)
    #expect(!saved.isEmpty)
    let restored = original.map { Parameter($0.value) }
    let resumed = optimizerCase.make()
    try resumed.loadState(saved, for: restored)
    #expect(resumed.stateTensors(for: restored) == saved)

    for stepGradients in gradients[2...] {
      step(optimizer, original, gradients: stepGradients)
      step(resumed, restored, gradients: stepGradients)
    }
    #expect(bits(original.map(\.value)) == bits(restored.map(\.value)))
    let final = optimizer.stateTensors(for: original), resumedFinal = resumed.stateTensors(for: restored)
    #expect(final.keys.sorted() == resumedFinal.keys.sorted())
    for key in final.keys { #expect(bits(final[key].map { [$0] } ?? []) == bits(resumedFinal[key].map { [$0] } ?? []), "\(key)") }
  }

  /// Loading replaces state: a parameter without keys starts afresh.
  @Test func loadingForgetsStateOfParametersWithoutKeys() throws {
    let parameters = makeParameters()
    let optimizer = Adam()
    step(optimizer, parameters, gradients: randomGradients(for: parameters, steps: 1, seed: 6)[0])
    var saved = optimizer.stateTensors(for: parameters)
    for key in saved.keys where key.hasPrefix("1.") { saved[key] = nil }
    step(optimizer, parameters, gradients: randomGradients(for: parameters, steps: 1, seed: 7)[0])
    try optimizer.loadState(saved, for: parameters)
    #expect(optimizer.stateTensors(for: parameters) == saved)
  }

  func savedAdamState() -> (parameters: [Parameter], optimizer: Adam, state: [String: Tensor]) {
    let parameters = makeParameters()
    let optimizer = Adam()
    step(optimizer, parameters, gradients: randomGradients(for: parameters, steps: 1, seed: 8)[0])
    return (parameters, optimizer, optimizer.stateTensors(for: parameters))
  }

  @Test func mismatchedStateIsRejected() {
    let (parameters, _, saved) = savedAdamState()
    func error(_ edit: (inout [String: Tensor]) -> Void, for parameters: [Parameter]? = nil) -> OptimizerStateError? {
      var state = saved
      edit(&state)
      do {
        try Adam().loadState(state, for: parameters ?? self.savedAdamState().parameters)
        return nil
      } catch {
        return error
      }
    }
    #expect(
      error { $0["1.exp_avg"] = .zeros([4]) }
        == .shapeMismatch(key: "1.exp_avg", expected: [3], found: [4]))
    #expect(error { $0["1.exp_avg_sq"] = nil } == .missingKey("1.exp_avg_sq"))
    #expect(error { $0["0.step"] = nil } == .missingKey("0.step"))
    #expect(error { $0["2.step"] = Tensor(shape: [], scalars: [1]) } == .unexpectedKey("2.step"))
    #expect(error { $0["0.momentum_buffer"] = .zeros([4, 3]) } == .unexpectedKey("0.momentum_buffer"))
    #expect(error { $0["step"] = Tensor(shape: [], scalars: [1]) } == .unexpectedKey("step"))
    #expect(error { $0["01.step"] = Tensor(shape: [], scalars: [1]) } == .unexpectedKey("01.step"))
    #expect(error { $0["0.step"] = Tensor(shape: [], scalars: [1.5]) } == .invalidStep(key: "0.step", value: 1.5))
    #expect(error { $0["0.step"] = Tensor(shape: [], scalars: [0]) } == .invalidStep(key: "0.step", value: 0))
    #expect(error { $0["0.step"] = Tensor(shape: [1], scalars: [1]) } == .shapeMismatch(key: "0.step", expected: [], found: [1]))
    // Too few parameters: the keys of the missing one are unexpected.
    #expect(error({ _ in }, for: [parameters[0]]) == .unexpectedKey("1.exp_avg"))
    // Another optimizer's state.
    do {
      try SGD(learningRate: 0.1, momentum: 0.9).loadState(saved, for: parameters)
      Issue.record("SGD accepted Adam's state")
    } catch {
      #expect(error == .unexpectedKey("0.exp_avg"))
    }
  }

  @Test func aRejectedStateLeavesTheOptimizerUntouched() {
    let (parameters, optimizer, saved) = savedAdamState()
    var broken = saved
    broken["0.exp_avg"] = .zeros([12])  // 0.* is valid up to here, 1.* fails later
    broken["1.exp_avg"] = .zeros([4])
    #expect(throws: OptimizerStateError.self) { try optimizer.loadState(broken, for: parameters) }
    #expect(optimizer.stateTensors(for: parameters) == saved)
  }

  @Test func errorsExplainTheFix() {
    let error = OptimizerStateError.shapeMismatch(key: "3.exp_avg", expected: [30, 1, 5, 5], found: [30])
    #expect(error.description.contains("\"3.exp_avg\" has shape [30], expected [30, 1, 5, 5]"))
    #expect(error.description.contains("HINT"))
  }
}
