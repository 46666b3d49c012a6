import ArgumentParser
import CNNKit
import Foundation

#if MPI
import CNNDistributed

/// `cnn train`'s data-parallel options and its MPI setup (package trait `MPI`).
///
/// Under `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`) `cnn train` joins the world: every
/// rank trains on its share of each batch, rank 0 alone prints, writes `--json`, checkpoints
/// and plots. Run directly, it trains as one process and MPI is not started.
struct DistributedOptions: ParsableArguments {
  @Flag(help: "Under mpirun: compute batch-norm statistics over all ranks' images (default: each rank's own).")
  var syncBatchnorm = false

  @Option(help: "Under mpirun: megabytes of gradients per allreduce (a bucket starts as soon as the backward pass has finished its layers).")
  var bucketMb: Int = 8

  func validate() throws {
    guard (1...1024).contains(bucketMb) else { throw ValidationError("--bucket-mb must be in 1…1024 (got \(bucketMb)).") }
  }

  /// Whether `mpirun` started this process.
  static var underMPIRun: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

  /// Starts MPI under `mpirun` and, unless `--threads` or `CNN_THREADS` says otherwise, shares
  /// the cores among the ranks on this host. Returns `nil` for a single process.
  func start(threadsGiven: Bool) throws -> MPIContext? {
    guard Self.underMPIRun else { return nil }
    let mpi = try MPIContext.start()
    let environment = ProcessInfo.processInfo.environment
    if !threadsGiven, environment["CNN_THREADS"] == nil,
      let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), local > 0
    {
      ComputeThreads.count = max(1, ProcessInfo.processInfo.activeProcessorCount / local)
    }
    return mpi
  }

  /// Connects `session` to the ranks; returns whether this process is the one that writes.
  /// - Throws: `ValidationError` for `--dashboard` under mpirun: its pause, stop and
  ///   learning-rate controls would reach rank 0 alone, and the ranks would part ways.
  func attach(_ mpi: MPIContext?, to session: TrainingSession, checkpoint: String?, dashboard: Bool) throws -> Bool {
    guard let mpi else { return true }
    if dashboard {
      throw ValidationError("--dashboard does not work under mpirun: its controls would reach rank 0 alone.")
    }
    let parallel = DataParallel(context: mpi, bucketBytes: bucketMb << 20)
    parallel.synchronizeBatchNorm = syncBatchnorm
    session.distributed = parallel
    let kept = checkpoint.map { "The last checkpoint, \($0), is whole: rank 0 writes it atomically after each epoch." }
    mpi.failureHint = kept.map { " " + $0 } ?? ""
    mpi.sayOnTermination(
      "another rank has ended (mpirun names it above or below), so the run stops here. " + (kept ?? "No --checkpoint was given."))
    return mpi.isPrimary
  }

  /// Runs the rest of the command; then ends MPI together with the other ranks, or, when this
  /// rank failed alone (an error other than a stop every rank reached), says so and ends the job.
  func finishing(_ mpi: MPIContext?, _ session: TrainingSession? = nil, _ body: () throws -> Void) throws {
    guard let mpi else { return try body() }
    do {
      try body()
    } catch let error as ExitCode {
      mpi.finish()
      throw error
    } catch {
      mpi.abort(because: "\(error)")
    }
    if mpi.isPrimary, let parallel = session?.distributed {
      Console.error("cnn: rank 0 of \(mpi.size): \(parallel.communicationSummary)\n")
    }
    mpi.finish()
  }
}
#else
/// Without the package trait `MPI`, `cnn train` has no data-parallel options.
struct DistributedOptions: ParsableArguments {
  /// Stands for the MPI world this build has none of (`start` always returns `nil`).
  struct NoMPI {}

  func start(threadsGiven: Bool) throws -> NoMPI? { nil }

  func attach(_ mpi: NoMPI?, to session: TrainingSession, checkpoint: String?, dashboard: Bool) throws -> Bool { true }

  func finishing(_ mpi: NoMPI?, _ session: TrainingSession? = nil, _ body: () throws -> Void) throws { try body() }
}
#endif
