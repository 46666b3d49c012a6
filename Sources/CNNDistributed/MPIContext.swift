#if MPI
import CMPI
import CNNTraining
import Foundation

/// The processes that `mpirun` started, as CNNTraining's ``DistributedContext``: `MPI_COMM_WORLD`
/// with sums (`MPI_Allreduce`, and `MPI_Iallreduce` for the gradient buckets that overlap the
/// backward pass) and broadcasts (`MPI_Bcast`).
///
/// Only the thread that created the context calls MPI (`MPI_THREAD_FUNNELED`); the kernels'
/// worker threads and the batch loader never do. Errors are returned rather than fatal
/// (`MPI_ERRORS_RETURN`), so that a failed collective says, on the rank that sees it, which
/// operation failed and that the last checkpoint is whole, before the job is aborted.
///
///     let mpi = try MPIContext.start()
///     defer { mpi.finish() }
///     session.distributed = DataParallel(context: mpi)
public final class MPIContext: DistributedContext {
  public let rank: Int
  public let size: Int
  /// This process's host name (`MPI_Get_processor_name`).
  public let hostName: String
  /// What a failure adds to its message on this rank (e.g. where the last checkpoint is).
  public var failureHint = ""
  private let world: MPI_Comm
  /// The sums ``startSum(_:)`` started that ``finishSums()`` has not yet waited for.
  private var pending: [MPI_Request?] = []

  private init(rank: Int, size: Int, hostName: String) {
    self.rank = rank
    self.size = size
    self.hostName = hostName
    self.world = cnnkit_mpi_comm_world()
  }

  /// Initialises MPI (once per process) and returns the world's context. A process that
  /// `mpirun` did not start is a world of one.
  ///
  /// Unless the environment sets it, Open MPI's `mpi_yield_when_idle` is turned on: a rank
  /// waiting in a sum yields its core instead of spinning on it. Measured on this 2-core
  /// machine while other jobs ran, 2 ranks trained SimpleConvNet at 2,300–3,500 images/s
  /// spinning and 7,200–8,000 yielding (2.1 ms per step in gradient sums).
  /// - Throws: ``MPIError`` when MPI cannot start.
  public static func start() throws(MPIError) -> MPIContext {
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
    var provided: Int32 = 0
    let code = MPI_Init_thread(nil, nil, cnnkit_mpi_thread_funneled(), &provided)
    guard code == MPI_SUCCESS else { throw MPIError(operation: "MPI_Init_thread", code: code, place: nil) }
    let world = cnnkit_mpi_comm_world()
    MPI_Comm_set_errhandler(world, cnnkit_mpi_errors_return())
    var rank: Int32 = 0
    var size: Int32 = 0
    MPI_Comm_rank(world, &rank)
    MPI_Comm_size(world, &size)
    var name = [CChar](repeating: 0, count: Int(MPI_MAX_PROCESSOR_NAME) + 1)
    var length: Int32 = 0
    MPI_Get_processor_name(&name, &length)
    let hostName = String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return MPIContext(rank: Int(rank), size: Int(size), hostName: hostName)
  }

  /// Ends MPI after every rank has arrived (call once, at the end of a successful run).
  public func finish() {
    check(MPI_Barrier(world), "MPI_Barrier")
    MPI_Finalize()
  }

  public func sum(_ values: UnsafeMutableBufferPointer<Float>) {
    sum(values.baseAddress, count: values.count, type: cnnkit_mpi_float())
  }

  public func sum(_ values: UnsafeMutableBufferPointer<Double>) {
    sum(values.baseAddress, count: values.count, type: cnnkit_mpi_double())
  }

  /// `MPI_Iallreduce` in place; the sum advances inside later MPI calls (``advanceSums()``).
  public func startSum(_ values: UnsafeMutableBufferPointer<Float>) {
    guard size > 1, let base = values.baseAddress else { return }
    for (offset, count) in Self.chunks(values.count) {
      var request = cnnkit_mpi_request_null()
      check(
        MPI_Iallreduce(
          cnnkit_mpi_in_place(), base + offset, Int32(count), cnnkit_mpi_float(), cnnkit_mpi_sum(), world, &request),
        "MPI_Iallreduce")
      pending.append(request)
    }
  }

  /// `MPI_Testall` over the started sums: lets them advance without waiting.
  public func advanceSums() {
    guard !pending.isEmpty else { return }
    var done: Int32 = 0
    check(MPI_Testall(Int32(pending.count), &pending, &done, cnnkit_mpi_statuses_ignore()), "MPI_Testall")
    if done != 0 { pending.removeAll(keepingCapacity: true) }
  }

  /// `MPI_Waitall` over the started sums.
  public func finishSums() {
    guard !pending.isEmpty else { return }
    check(MPI_Waitall(Int32(pending.count), &pending, cnnkit_mpi_statuses_ignore()), "MPI_Waitall")
    pending.removeAll(keepingCapacity: true)
  }

  public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) {
    guard size > 1, let base = values.baseAddress else { return }
    for (offset, count) in Self.chunks(values.count) {
      check(MPI_Bcast(base + offset, Int32(count), cnnkit_mpi_float(), Int32(root), world), "MPI_Bcast")
    }
  }

  /// Has SIGTERM print `message` (prefixed with this rank) before the process dies of it: when a
  /// rank dies, `mpirun` ends the others with SIGTERM, and this is what they say. (It takes
  /// SIGTERM's place before CNNTraining's temporary-file clean-up could, so a checkpoint's
  /// temporary file interrupted by it stays behind; the checkpoint itself is renamed into place
  /// whole or not at all.)
  public func sayOnTermination(_ message: String) {
    let line = "cnn: rank \(rank) of \(size) (\(hostName)) stopped by a signal from mpirun: \(message)\n"
    let text = strdup(line)
    let old = terminationMessage
    terminationMessage = text.map { UnsafePointer($0) }
    terminationMessageLength = line.utf8.count
    free(UnsafeMutableRawPointer(mutating: old))
    signal(SIGTERM, onTermination)
  }

  /// Says on standard error that this rank stops because of `reason`, then ends the whole job.
  public func abort(because reason: String) -> Never {
    FileHandle.standardError.write(Data("cnn: rank \(rank) of \(size) (\(hostName)) stops the job: \(reason)\n".utf8))
    MPI_Abort(world, 1)
    exit(1)
  }

  /// Waits until every rank has called it.
  public func barrier() {
    check(MPI_Barrier(world), "MPI_Barrier")
  }

  private func sum(_ base: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype) {
    guard size > 1, let base else { return }
    var extent: MPI_Aint = 0
    var lowerBound: MPI_Aint = 0
    MPI_Type_get_extent(type, &lowerBound, &extent)
    for (offset, chunk) in Self.chunks(count) {
      check(
        MPI_Allreduce(cnnkit_mpi_in_place(), base + offset * Int(extent), Int32(chunk), type, cnnkit_mpi_sum(), world),
        "MPI_Allreduce")
    }
  }

  /// `0..<count` in pieces that fit MPI's `int` counts.
  private static func chunks(_ count: Int) -> [(offset: Int, count: Int)] {
    let most = Int(Int32.max)
    return stride(from: 0, to: count, by: most).map { ($0, min(most, count - $0)) }
  }

  /// Does nothing on success; otherwise says what failed and ends the job (`MPI_Abort`).
  private func check(_ code: Int32, _ operation: String) {
    guard code != MPI_SUCCESS else { return }
    let error = MPIError(operation: operation, code: code, place: "rank \(rank) of \(size) (\(hostName))")
    FileHandle.standardError.write(Data("cnn: \(error).\(failureHint)\n".utf8))
    MPI_Abort(world, 1)
    exit(1)
  }
}

/// The line a termination signal prints (written once, before the handlers are installed).
nonisolated(unsafe) private var terminationMessage: UnsafePointer<CChar>?
nonisolated(unsafe) private var terminationMessageLength = 0

/// Writes ``terminationMessage`` (async-signal-safe: `write`, `signal` and `raise` only), then
/// dies of the signal.
private func onTermination(_ signalNumber: Int32) {
  if let terminationMessage { _ = write(2, terminationMessage, terminationMessageLength) }
  signal(signalNumber, SIG_DFL)
  raise(signalNumber)
}

/// An MPI call that failed, with MPI's own words for the error.
public struct MPIError: Error, CustomStringConvertible {
  public var operation: String
  public var code: Int32
  /// Which process saw it (`rank 1 of 4 (host)`), or `nil` before MPI started.
  public var place: String?

  public var description: String {
    var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
    var length: Int32 = 0
    MPI_Error_string(code, &text, &length)
    let reason = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let place else { return "\(operation) failed (\(reason))" }
    return "\(operation) failed on \(place) (\(reason)): another rank has probably died or become unreachable, "
      + "so training stops here"
  }
}
#endif
