import ArgumentParser
import CNNDashboard
import CNNKit
import Foundation

/// `cnn dashboard RUN.jsonl`: the live view of a finished run, from its `--json` log.
struct Dashboard: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a finished run in the browser, from the log that `cnn train --json` wrote.",
    discussion: """
      Serves the dashboard page at the printed address until Ctrl-C: the loss per step, the \
      accuracies and learning rate per epoch. With --checkpoint, also the network's layers, \
      activations, filters, predictions on test images, the confusion matrix and, for 28×28 grey \
      models, a canvas to draw a digit on.
      """)

  @Argument(help: "The run's log, as written by `cnn train --json > run.jsonl`.")
  var log: String

  @Option(help: "The run's checkpoint (safetensors), for the views that need its weights.")
  var checkpoint: String?

  @OptionGroup var server: DashboardOptions

  func run() throws {
    let text: String
    do {
      text = try String(contentsOf: URL(fileURLWithPath: log), encoding: .utf8)
    } catch {
      throw ValidationError("cannot read \(log): \(error.localizedDescription)")
    }
    var lines: [String] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
      do {
        _ = try TrainingEvent(jsonLine: line)
      } catch {
        throw ValidationError(
          "\(log): line \(index + 1) is not a training event (\(JSONLines.summary(of: error))); pass the output of "
            + "`cnn train --json` unchanged.")
      }
      lines.append(String(line))
    }
    guard !lines.isEmpty else { throw ValidationError("\(log) holds no events; pass the output of `cnn train --json`.") }
    var restored: RestoredModel?
    var test: Dataset?
    if let checkpoint {
      let model = try RestoredModel(contentsOf: URL(fileURLWithPath: checkpoint))
      restored = model
      do {
        let data = try model.data(nil)
        try model.checkFits(data.test)
        test = data.test
      } catch {
        Console.out("Without test images (\(error)): no predictions grid or confusion matrix.\n")
      }
    }
    let dashboard = LiveDashboard(log: lines, restored: restored, test: test)
    try server.start(dashboard, say: Console.out)
    DashboardOptions.serveForever(say: Console.out)
  }
}
