import CNNKernels
import CNNTensor

/// Sums batch normalization's per-channel statistics over the processes of a data-parallel
/// run (synchronised batch norm); CNNTraining's `DataParallel` is one.
public protocol BatchStatisticsSynchronizer: AnyObject {
  /// Replaces `values` (per-channel sums and a count of this process's values) with their sum
  /// over all processes.
  func sumStatistics(_ values: inout [Double])
  /// Replaces `values` (per-channel sums of this process's output gradients, in this process's
  /// loss scale) with the whole batch's, in the same scale.
  func sumGradients(_ values: inout [Double])
}

extension BatchNorm2D {
  /// `μ`, `σ²` and `M` of the whole batch over every process: the sums of the first pass (and
  /// the value count) are summed, then the squared deviations from the common mean.
  func synchronizedStatistics(_ input: Tensor, _ synchronizer: any BatchStatisticsSynchronizer)
    -> (mean: [Float], variance: [Float], count: Int)
  {
    let (batch, channels, plane) = (input.shape[0], featureCount, input.shape[2] * input.shape[3])
    var sums = input.withPointer { x in
      batchNormMoments(input: x, batch: batch, channels: channels, plane: plane, threads: 1).sums
    }
    sums.append(Double(batch * plane))
    synchronizer.sumStatistics(&sums)
    let count = Int(sums[channels].rounded())
    precondition(count > 1, "BatchNorm2D needs more than one value per channel in training, got \(count) over all ranks")
    let means = sums[0..<channels].map { $0 / Double(count) }
    var squares = input.withPointer { x in
      batchNormMoments(input: x, batch: batch, channels: channels, plane: plane, centers: means, threads: 1).squares
    }
    synchronizer.sumStatistics(&squares)
    return (means.map { Float($0) }, squares.map { Float($0 / Double(count)) }, count)
  }

  /// `Σ dy` and `Σ dy·x̂` of the whole batch, from this process's.
  static func synchronizedGradientSums(
    _ sumGradient: [Float], _ sumGradientNormalized: [Float], _ synchronizer: any BatchStatisticsSynchronizer
  ) -> ([Float], [Float]) {
    let channels = sumGradient.count
    var both = (sumGradient + sumGradientNormalized).map(Double.init)
    synchronizer.sumGradients(&both)
    return (both[0..<channels].map { Float($0) }, both[channels...].map { Float($0) })
  }
}
