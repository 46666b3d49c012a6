import CNNKernels

/// Why a training run cannot start or continue. Each description says what is wrong and ends
/// with a `---> HINT:` line naming a fix.
public enum RunError: Error, CustomStringConvertible, Sendable {
  /// Settings out of range or contradicting each other.
  case invalidConfiguration([String])
  /// The data is not what the run's model is built for.
  case dataMismatch(String)
  /// The network cannot take images of this shape.
  case modelDoesNotFit(model: String, shape: [Int], reason: String)
  /// A checkpoint with weights but no training state.
  case nothingToResume(String)
  /// The run already reached the requested epoch count.
  case alreadyComplete(String, epochsCompleted: Int, requested: Int)
  /// The checkpoint could not be turned back into a model and an optimizer.
  case checkpoint(CheckpointError)
  /// The model or a training step would not fit the memory budget.
  case memoryBudget(MemoryBudgetError)
  /// An option contradicts the run being resumed.
  case conflictsWithResumedRun(option: String, given: String, saved: String)

  public var description: String {
    switch self {
    case .invalidConfiguration(let problems):
      return "The run's settings cannot train: " + problems.joined(separator: "; ") + ".\n"
        + "---> HINT: change the settings named above (`cnn train --help` gives each option's range)."
    case .dataMismatch(let reason):
      return "The data does not fit the run: \(reason).\n"
        + "---> HINT: give the --dataset and --data-dir the model was trained on (or leave them out on a resume, "
        + "to use the saved ones), or start a new run for this data."
    case .modelDoesNotFit(let model, let shape, let reason):
      let size = shape.map(String.init).joined(separator: "×")
      return "--model \(model) does not fit this data's \(size) images: \(reason).\n"
        + "---> HINT: pick a model built for this image size (`cnn summary --model NAME --input "
        + "\(shape.map(String.init).joined(separator: "x"))` checks one), or resize a folder dataset with --image-size."
    case .nothingToResume(let source):
      return "\(source) holds weights only, with no training state to resume.\n"
        + "---> HINT: resume from a file written by `cnn train --checkpoint FILE`; to fine-tune these weights, "
        + "start a new run."
    case .alreadyComplete(let source, let done, let requested):
      return "\(source) has already finished \(done) epochs, and --epochs asks for \(requested) in all.\n"
        + "---> HINT: pass --epochs with a total larger than \(done) to continue it."
    case .checkpoint(let error):
      return error.description
    case .memoryBudget(let error):
      return "The run cannot train: \(error.problem)\n---> HINT: \(error.hint) A smaller --batch-size or "
        + "--image-size also helps."
    case .conflictsWithResumedRun(let option, let given, let saved):
      return "\(option) \(given) conflicts with the run being resumed, which was trained with \(saved).\n"
        + "---> HINT: leave \(option) out to continue the run as it was, or start a new run (without --resume) "
        + "to train with \(given)."
    }
  }
}
