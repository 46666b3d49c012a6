#if MPI
import CNNTensor
import CNNTraining
import Foundation
import Testing

/// `cnn train` under `mpirun` against the same run in one process. Built and run only with the
/// package trait `MPI` (`.ci/run` does: `swift test --traits MPI --filter DistributedTests`).
@Suite(.serialized) struct DataParallelTests {
  /// The largest relative difference `‖a − b‖ / ‖b‖` over the tensors of two checkpoints, with
  /// the name of that tensor; also checks that both hold the same names and shapes.
  static func largestDifference(_ a: URL, _ b: URL) throws -> (name: String, relative: Double) {
    let left = try Checkpoint.load(from: a), right = try Checkpoint.load(from: b)
    #expect(left.tensors.map(\.name) == right.tensors.map(\.name))
    var worst = (name: "", relative: 0.0)
    for ((name, x), (_, y)) in zip(left.tensors, right.tensors) {
      #expect(x.shape == y.shape, "\(name)")
      var difference = 0.0, norm = 0.0
      for (u, v) in zip(x.scalars, y.scalars) {
        difference += Double(u - v) * Double(u - v)
        norm += Double(v) * Double(v)
      }
      let relative = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
      if relative > worst.relative { worst = (name, relative) }
    }
    return worst
  }

  /// A deterministic run of simple-convnet on `digits/` (`writeBands(side: 28, perClass: 40)`:
  /// 108 training images, 12 test images), its gradients in 1 MB buckets (3 buckets, which
  /// start during the backward pass): no augmentation (each rank augments with its own
  /// seed, by design), one thread per process, SGD with momentum. Adam is left out on purpose:
  /// it divides by the root of tiny second moments, which magnifies the last-bit differences of
  /// another summation order (4.4e-5 relative on a first-layer bias after 40 steps on the MNIST
  /// sample, against 2e-6 for the weights).
  static let digits = [
    "train", "--model", "simple-convnet", "--dataset", "folder", "--data-dir", "digits", "--batch-size", "12",
    "--augment", "none", "--optimizer", "momentum", "--learning-rate", "0.02", "--schedule", "constant",
    "--threads", "1", "--bucket-mb", "1",
  ]

  /// After K = 9 steps (one epoch of 108 images in global batches of 12), two ranks hold the
  /// parameters of one process with batches of 12 within 1e-5 relative. The 2-rank checkpoint
  /// then resumes in one process, and after the second epoch it still matches.
  @Test func twoRanksMatchOneProcessAndResumeOnOne() throws {
    try withTemporaryDirectory { directory in
      try writeBands(to: directory.appendingPathComponent("digits"), side: 28, perClass: 40)
      let url = { (name: String) in directory.appendingPathComponent(name) }
      let one = try cnn(Self.digits + ["--epochs", "2", "--checkpoint", "one.safetensors"], in: directory)
      try #require(one.exitCode == 0, "\(one)")
      let firstEpoch = try cnn(Self.digits + ["--epochs", "1", "--checkpoint", "one-1.safetensors"], in: directory)
      try #require(firstEpoch.exitCode == 0, "\(firstEpoch)")

      let two = try mpi(ranks: 2, Self.digits + ["--epochs", "2", "--checkpoint", "two.safetensors"], in: directory)
      try #require(two.exitCode == 0, "\(two)")
      #expect(two.stdout.components(separatedBy: "Finished in").count == 2, "rank 0 alone prints: \(two)")
      #expect(two.stdout.components(separatedBy: "Data-parallel over 2 ranks").count == 2, "\(two)")
      #expect(two.stdout.contains("Data-parallel over 2 ranks"), "\(two)")
      #expect(two.stderr.contains("in 3 buckets, 3.0 of them started during the backward pass"), "\(two)")
      let afterTwo = try Self.largestDifference(url("two.safetensors"), url("one.safetensors"))
      #expect(afterTwo.relative <= 1e-5, "after 18 steps: \(afterTwo)")

      let first = try mpi(ranks: 2, Self.digits + ["--epochs", "1", "--checkpoint", "two-1.safetensors"], in: directory)
      try #require(first.exitCode == 0, "\(first)")
      let afterOne = try Self.largestDifference(url("two-1.safetensors"), url("one-1.safetensors"))
      #expect(afterOne.relative <= 1e-5, "after 9 steps: \(afterOne)")

      // Resumed in one process from the 2-rank checkpoint of epoch 1: the second epoch matches.
      let resumed = try cnn(["train", "--resume", "two-1.safetensors", "--epochs", "2"], in: directory)
      try #require(resumed.exitCode == 0, "\(resumed)")
      let continued = try Self.largestDifference(url("two-1.safetensors"), url("one.safetensors"))
      #expect(continued.relative <= 1e-5, "epoch 1 on 2 ranks, epoch 2 on 1: \(continued)")
    }
  }

  /// The full MNIST-sample run of the README (simple-convnet's recipe: 12 epochs, Adam, 2-pixel
  /// shifts, cosine) reaches the same test accuracy on 2 ranks as in one process, within 0.3
  /// points. Minutes in a debug build, so only when `CNN_MPI_FULL_RUN=1` (with
  /// `CNN_EXECUTABLE` naming a release `cnn`, about 30 s).
  @Test(.enabled(if: ProcessInfo.processInfo.environment["CNN_MPI_FULL_RUN"] == "1"))
  func fullSampleRunReachesOneProcessAccuracy() throws {
    try withTemporaryDirectory { directory in
      let run = ["train", "--threads", "1", "--json"]
      let one = try cnn(run, in: directory, timeout: 3600)
      try #require(one.exitCode == 0, "\(one)")
      let two = try mpi(ranks: 2, run, in: directory, timeout: 3600)
      try #require(two.exitCode == 0, "\(two)")
      let (a, b) = (try Self.finalAccuracy(one.stdout), try Self.finalAccuracy(two.stdout))
      #expect(abs(a - b) <= 0.003, "one process \(a), two ranks \(b)")
    }
  }

  /// The test accuracy of the last `epoch` line of a `--json` log.
  static func finalAccuracy(_ log: String) throws -> Double {
    let epochs = log.split(separator: "\n").filter { $0.contains("\"event\":\"epoch\"") }
    let line = try #require(epochs.last, "no epoch line in \(log)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    return try #require((object["test_accuracy"] as? NSNumber)?.doubleValue, "\(line)")
  }

  /// With --sync-batchnorm, a ResNet-18 on two ranks computes the batch statistics of the whole
  /// batch: after one step on 9 images (shares of 4 and 5) its parameters and running
  /// statistics are one process's within 1e-5 (measured: 1e-6). Without the flag each rank
  /// normalises with its own share, and they are not (measured: 0.3 relative).
  ///
  /// One step, because ResNet-18's last stages normalise 2×2 and 1×1 maps of 9 images: the
  /// dynamics on such batches magnify last-bit differences quickly (1e-6 after one step, 2e-4
  /// after three, measured), with synchronised statistics as with two thread counts.
  @Test func synchronisedBatchNormMatchesOneProcess() throws {
    try withTemporaryDirectory { directory in
      try writeBands(to: directory.appendingPathComponent("bands"), side: 32, perClass: 3)
      let run = [
        "train", "--model", "resnet18", "--dataset", "folder", "--data-dir", "bands", "--batch-size", "9",
        "--epochs", "1", "--augment", "none", "--optimizer", "sgd", "--learning-rate", "0.01", "--threads", "1",
      ]
      let one = try cnn(run + ["--checkpoint", "one.safetensors"], in: directory)
      try #require(one.exitCode == 0, "\(one)")
      let synced = try mpi(ranks: 2, run + ["--sync-batchnorm", "--checkpoint", "sync.safetensors"], in: directory)
      try #require(synced.exitCode == 0, "\(synced)")
      let local = try mpi(ranks: 2, run + ["--checkpoint", "local.safetensors"], in: directory)
      try #require(local.exitCode == 0, "\(local)")
      let url = { (name: String) in directory.appendingPathComponent(name) }
      let withSync = try Self.largestDifference(url("sync.safetensors"), url("one.safetensors"))
      #expect(withSync.relative <= 1e-5, "\(withSync)")
      let perRank = try Self.largestDifference(url("local.safetensors"), url("one.safetensors"))
      #expect(perRank.relative > 1e-4, "per-rank statistics should differ: \(perRank)")
    }
  }

  /// Killing one rank after the first checkpoint ends the whole job with a message that says
  /// what happened, and the checkpoint still loads.
  @Test func killedRankEndsTheJobAndKeepsTheCheckpoint() throws {
    try withTemporaryDirectory { directory in
      try writeBands(to: directory.appendingPathComponent("digits"), side: 28, perClass: 40)
      let job = try startMPI(
        ranks: 2, Self.digits + ["--epochs", "1000", "--checkpoint", "run.safetensors"], in: directory)
      let checkpoint = directory.appendingPathComponent("run.safetensors")
      let deadline = Date().addingTimeInterval(240)
      while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline && job.process.isRunning {
        Thread.sleep(forTimeInterval: 0.2)
      }
      try #require(FileManager.default.fileExists(atPath: checkpoint.path), "no checkpoint: \(job.result)")
      let ranks = try Self.children(of: job.process.processIdentifier)
      try #require(ranks.count == 2, "ranks of mpirun: \(ranks)")
      kill(ranks[1], SIGKILL)
      let result = try job.wait(timeout: 120)
      #expect(result.exitCode != 0, "\(result)")
      // mpirun names the dead rank; the survivor says why it stops and that the checkpoint is whole.
      #expect(result.stderr.contains("exited on signal 9 (Killed)"), "\(result)")
      #expect(result.stderr.contains("stopped by a signal from mpirun: another rank has ended"), "\(result)")
      #expect(result.stderr.contains("The last checkpoint, run.safetensors, is whole"), "\(result)")
      let saved = try Checkpoint.load(from: checkpoint)
      let state = try #require(saved.training, "the checkpoint holds its training state")
      #expect(state.epochsCompleted >= 1)
      #expect(state.epochsCompleted < 1000)
      _ = try saved.makeModel()
    }
  }

  /// The processes whose parent is `parent` (the ranks mpirun started on this host), by `ps`.
  static func children(of parent: Int32) throws -> [Int32] {
    let ps = Process()
    ps.executableURL = try Executables.onPath("ps")
    ps.arguments = ["-o", "pid=", "--ppid", "\(parent)"]
    let pipe = Pipe()
    ps.standardOutput = pipe
    try ps.run()
    ps.waitUntilExit()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }.sorted()
  }
}
#endif
