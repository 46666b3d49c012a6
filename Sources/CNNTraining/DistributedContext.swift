/// The processes of a data-parallel run and the collective operations training needs from
/// them: CNNTraining's one hook for a communication library.
///
/// `CNNDistributed.MPIContext` implements it over MPI (package trait `MPI`); CNNTraining itself
/// links no communication library. Every rank must call each operation in the same order with
/// the same element counts (MPI's rule for collectives).
///
/// A failed operation cannot be recovered from inside a training step (a rank has died or the
/// network is gone), so an implementation does not return from one: it says which operation
/// failed on which rank and ends the job.
public protocol DistributedContext: AnyObject {
  /// This process's number, `0..<size`; rank 0 prints, writes files and checkpoints.
  var rank: Int { get }
  /// The number of processes.
  var size: Int { get }
  /// Replaces `values` on every rank with their element-wise sum over all ranks (the same
  /// result on every rank).
  func sum(_ values: UnsafeMutableBufferPointer<Float>)
  /// Replaces `values` on every rank with their element-wise sum over all ranks.
  func sum(_ values: UnsafeMutableBufferPointer<Double>)
  /// Replaces `values` on every rank with rank `root`'s.
  func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int)
  /// Starts replacing `values` with their sum over all ranks and returns at once (a
  /// non-blocking sum, `MPI_Iallreduce`); the memory must stay allocated and untouched until
  /// ``finishSums()`` returns. Sums started this way finish in the order they were started.
  func startSum(_ values: UnsafeMutableBufferPointer<Float>)
  /// Lets the started sums advance (MPI moves non-blocking collectives along only inside MPI
  /// calls); returns at once.
  func advanceSums()
  /// Waits until every sum ``startSum(_:)`` started has finished.
  func finishSums()
}

extension DistributedContext {
  /// A blocking ``sum(_:)-(UnsafeMutableBufferPointer<Float>)``, for a context without
  /// non-blocking sums.
  public func startSum(_ values: UnsafeMutableBufferPointer<Float>) { sum(values) }

  /// Nothing to advance when ``startSum(_:)`` blocks.
  public func advanceSums() {}

  /// Nothing to wait for when ``startSum(_:)`` blocks.
  public func finishSums() {}

  /// Whether this is rank 0, the one that prints and writes.
  public var isPrimary: Bool { rank == 0 }

  /// `values` summed over all ranks.
  public func sum(_ values: [Double]) -> [Double] {
    var values = values
    values.withUnsafeMutableBufferPointer { sum($0) }
    return values
  }
}
