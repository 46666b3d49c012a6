import ArgumentParser
import CNNDashboard
import CNNKit
import Foundation

/// `cnn train`: trains a network on a dataset and reports its accuracy on the whole test set.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a network and report its test accuracy.",
    discussion: """
      With no options, trains the seeds' SimpleConvNet on the bundled MNIST sample (4,000 training \
      and 1,000 test images) with its default recipe: 12 epochs of Adam (learning rate 0.001, \
      batches of 100), He initialisation, random 2-pixel shifts (--augment crop=2) and a cosine \
      learning-rate decay (the shifts are left out on training sets of 20,000 images or more, \
      such as Fashion-MNIST). Every model has a recipe (`ModelName.defaultRecipe`): cifar-cnn's \
      is the seed's RMSprop 0.001 with batches of 128, flips and 4-pixel crops, one epoch of \
      warm-up and a cosine decay, 20 epochs. Each option given replaces that part of it \
      (--augment none and --schedule constant turn those off; the seeds' own recipe is \
      --epochs 20 --init normal=0.01 --augment none --schedule constant). Batches are shuffled \
      every epoch (each image once), prepared on a background thread, and the last smaller \
      batch is kept. The run stops early, saying why, if the loss becomes NaN \
      or infinite, or if accuracy stays at chance for --stop-at-chance epochs.
      """)

  @Option(help: "The network: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")) (default: simple-convnet).")
  var model: ModelName?

  @OptionGroup var data: DatasetOptions

  @Option(help: "Passes over the training set (default: the model's recipe, 12 for simple-convnet).")
  var epochs: Int?

  @Option(help: "Images per optimizer step (default: the model's recipe, 100 for simple-convnet).")
  var batchSize: Int?

  @Option(
    help: """
      The optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: the model's \
      recipe, adam for simple-convnet).
      """)
  var optimizer: OptimizerKind?

  @Option(
    name: .customLong("init"),
    help: "Weight initialisation: he, xavier, pytorch, normal=STD, or zeros (the counter-example: nothing breaks the symmetry between units) (default: the model's recipe, he for simple-convnet).")
  var initialization: WeightInitialization?

  @Option(help: "The learning rate (default: the optimizer's usual one, 0.001 for Adam).")
  var learningRate: Float?

  @Option(help: "Seed for initialisation and shuffling (default 42); the same seed repeats a run exactly.")
  var seed: UInt64?

  @Option(help: "Worker threads for the kernels (default: all cores).")
  var threads: Int?

  @Option(help: "Save a checkpoint (safetensors) here at the end of every epoch, written atomically.")
  var checkpoint: String?

  @Option(help: "Continue the run saved in this checkpoint, up to --epochs epochs in all (default: as planned). The run's settings come from the file; options that contradict them are refused.")
  var resume: String?

  @Option(
    help: """
      Augment training images, e.g. flip,crop=4,brightness=0.2,contrast=0.2,scale=0.1 (in that order), or none \
      (default: the model's recipe, crop=2 for simple-convnet on the sample, none from 20,000 training images).
      """)
  var augment: AugmentationPipeline?

  @Flag(help: "Standardise each channel with the training set's mean and standard deviation (after scaling to [0, 1]).")
  var normalize = false

  @Option(
    help: """
      Learning-rate schedule: step=EVERY[,gamma=0.1] | exponential=GAMMA | cosine[,min=LR] | \
      plateau[,factor=0.1,patience=10], each optionally with ,warmup=EPOCHS (e.g. cosine,warmup=2), or \
      constant (default: the model's recipe, cosine for simple-convnet).
      """)
  var schedule: ScheduleSpecification?

  @Option(help: "Weight decay λ (L2; decoupled for adamw). Default: the optimizer's (0, or 0.01 for adamw).")
  var weightDecay: Float?

  @Option(help: "Clip the gradients' global L2 norm to this value before each step.")
  var clipNorm: Float?

  @Option(help: "Stop when accuracy stays at chance for this many epochs in a row (0: never; default 3).")
  var stopAtChance: Int?

  @Flag(help: "Leave out each epoch's last batch when it is smaller than --batch-size (default: keep it).")
  var dropLast = false

  @Option(help: "Batches prepared ahead on a background thread (0: prepare each when needed). Results do not change.")
  var prefetch: Int = 2

  @Option(help: "Draw the loss and train/test accuracy per epoch here when training ends (SVG).")
  var plot: String?

  @Option(
    help: """
      Evaluate each epoch on a fixed sample, the first N test images (and measure accuracy on the first N \
      training images), as the seeds' trainer does with 1000 (default: the whole test set).
      """)
  var evalSample: Int?

  @Option(
    help: """
      When output is not a terminal, print a progress line every N batches (0: only the first step and the \
      epochs; default: about every tenth of an epoch, at most one per 5 seconds).
      """)
  var progressEvery: Int?

  @Flag(help: "Write one JSON object per line on standard output, and nothing else.")
  var json = false

  @Flag(
    help: """
      Serve a live view of the run in the browser at the printed address (http://127.0.0.1:8080/?token=…), \
      with pause, resume, learning rate and stop controls; it keeps serving after training until Ctrl-C.
      """)
  var dashboard = false

  @OptionGroup var dashboardServer: DashboardOptions

  @OptionGroup var distributed: DistributedOptions

  func validate() throws {
    func check<T: Comparable>(_ value: T?, _ option: String, _ range: ClosedRange<T>) throws {
      if let value, !range.contains(value) {
        throw ValidationError("\(option) must be in \(range.lowerBound)…\(range.upperBound) (got \(value)).")
      }
    }
    try check(epochs, "--epochs", RunLimits.epochs)
    try check(batchSize, "--batch-size", RunLimits.batchSize)
    try check(threads, "--threads", RunLimits.threads)
    try check(stopAtChance, "--stop-at-chance", RunLimits.stopAtChance)
    try check(prefetch, "--prefetch", 0...64)
    try check(evalSample, "--eval-sample", RunLimits.evaluationSample)
    try check(progressEvery, "--progress-every", 0...1_000_000)
    if let learningRate, !(learningRate > 0 && learningRate.isFinite && learningRate <= 1e6) {
      throw ValidationError("--learning-rate must be a positive number up to 1e6 (got \(learningRate)).")
    }
    if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) {
      throw ValidationError("--weight-decay must be a number ≥ 0 (got \(weightDecay)).")
    }
    if let clipNorm, !(clipNorm > 0 && clipNorm.isFinite) {
      throw ValidationError("--clip-norm must be a positive number (got \(clipNorm)).")
    }
    if let plot { try checkOutputName(plot, option: "--plot", extensions: ["svg"], content: "curves are written as SVG") }
    for (option, path) in [("--checkpoint", checkpoint), ("--plot", plot)] {
      guard let path else { continue }
      let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("\(option) \(path): the folder \(directory) does not exist; create it first.")
      }
    }
  }

  func run() throws {
    let mpi = try distributed.start(threadsGiven: threads != nil)
    let session = try resume.map(resumedSession(from:)) ?? newSession()
    // Under mpirun, rank 0 alone prints, checkpoints and plots.
    let writes = try distributed.attach(mpi, to: session, checkpoint: checkpoint ?? resume, dashboard: dashboard)
    session.checkpointURL = writes ? (checkpoint ?? resume).map { URL(fileURLWithPath: $0) } : nil
    session.prefetchBatches = prefetch
    let start = StartRecorder()
    let console: any TrainingObserver =
      json ? JSONLinesObserver() : ProgressBar(batchLines: progressEvery.map { .batches($0) } ?? .automatic)
    var observers: [any TrainingObserver] = writes ? [start, console] : [start]
    // With --json, standard output holds events only: the dashboard's lines go to standard error.
    let say: (String) -> Void = json ? { Console.error($0) } : { Console.out($0) }
    if dashboard && writes {
      let live = LiveDashboard(session: session, checkpoint: session.checkpointURL?.path)
      try dashboardServer.start(live, say: say)
      if session.checkpointURL == nil { say("(No --checkpoint: the dashboard's Stop button stops without saving.)\n") }
      observers += live.observer.map { [$0] } ?? []
    }
    try distributed.finishing(mpi, session) {
      try report(session.run(observers: observers), start: start, writes: writes, say: say)
    }
  }

  /// Draws the curves and turns a stopped run into a failure.
  private func report(
    _ result: TrainingResult, start: StartRecorder, writes: Bool, say: @escaping (String) -> Void
  ) throws {
    if let plot, writes {
      // The same subtitle as `cnn visualize curves` reads from the run's log.
      let curves = TrainingCurves(summaries: result.epochs, subtitle: start.event.map(TrainingCurves.subtitle(for:)))
      try curves.svg().write(to: plot)
      if !json { print("wrote \(plot)") }
    }
    if dashboard && writes {
      if let stop = result.stop, json { Console.error("\(stop)\n") }
      DashboardOptions.serveForever(say: say)
    }
    if let stop = result.stop {
      if json && writes { Console.error("\(stop)\n") }
      throw ExitCode.failure
    }
  }
}

/// Keeps the run's `started` event, for the plot's subtitle.
final class StartRecorder: TrainingObserver {
  private(set) var event: TrainingStart?

  func receive(_ event: TrainingEvent) {
    if case .started(let start) = event { self.event = start }
  }
}
