import CNNTensor

/// Per-channel standardisation of pixels already scaled to `[0, 1]`:
/// `x ← (x − mean[c]) / standardDeviation[c]`, as torchvision's `Normalize`.
///
/// Batches are always scaled to `[0, 1]` (`byte / 255`); a normalization is optional on top.
/// Measure it on the training split (``measured(on:)``) and apply the same values to every
/// split, at training and at evaluation time.
///
///     let normalization = Normalization.measured(on: cifar.training)
///     // mean≈[0.474, 0.473, 0.430] std≈[0.252, 0.248, 0.268] on the CIFAR-10 sample
public struct Normalization: Sendable, Equatable, CustomStringConvertible {
  /// The mean of each channel, in `[0, 1]` units.
  public var mean: [Float]
  /// The standard deviation of each channel, in `[0, 1]` units; all positive.
  public var standardDeviation: [Float]

  /// Creates a normalization; both arrays have one entry per channel.
  public init(mean: [Float], standardDeviation: [Float]) {
    precondition(
      mean.count == standardDeviation.count && !mean.isEmpty,
      "Normalization needs one mean and one standard deviation per channel, got \(mean.count) and "
        + "\(standardDeviation.count)")
    precondition(
      standardDeviation.allSatisfy { $0 > 0 && $0.isFinite },
      "Normalization needs positive standard deviations, got \(standardDeviation)")
    self.mean = mean
    self.standardDeviation = standardDeviation
  }

  /// The number of channels it applies to.
  public var channels: Int { mean.count }

  /// The per-channel mean and (population) standard deviation of `dataset`'s pixels in
  /// `[0, 1]` units, summed exactly in integers. A constant channel gets deviation 1.
  public static func measured(on dataset: Dataset) -> Normalization {
    let plane = dataset.height * dataset.width
    var sums = [UInt64](repeating: 0, count: dataset.channels)
    var squares = [UInt64](repeating: 0, count: dataset.channels)
    dataset.images.withUnsafeBufferPointer { pixels in
      for image in 0..<dataset.count {
        for channel in 0..<dataset.channels {
          let start = (image * dataset.channels + channel) * plane
          var sum: UInt64 = 0, square: UInt64 = 0
          for p in start..<(start + plane) {
            let value = UInt64(pixels[p])
            sum += value
            square += value * value
          }
          sums[channel] += sum
          squares[channel] += square
        }
      }
    }
    let n = Double(max(1, dataset.count * plane))
    var means: [Float] = [], deviations: [Float] = []
    for channel in 0..<dataset.channels {
      let mean = Double(sums[channel]) / n
      let variance = max(0, Double(squares[channel]) / n - mean * mean)
      let deviation = variance.squareRoot() / 255
      means.append(Float(mean / 255))
      deviations.append(deviation > 1e-6 ? Float(deviation) : 1)
    }
    return Normalization(mean: means, standardDeviation: deviations)
  }

  /// `mean=0.5,0.5,0.5;std=0.25,0.25,0.25`: shortest round-trip decimals, so parsing the
  /// text gives the same `Float`s back (for checkpoints).
  public var description: String {
    "mean=" + mean.map(\.description).joined(separator: ",") + ";std="
      + standardDeviation.map(\.description).joined(separator: ",")
  }

  /// Parses ``description``'s form; `nil` if malformed.
  public init?(parsing text: String) {
    let parts = text.split(separator: ";")
    guard parts.count == 2, parts[0].hasPrefix("mean="), parts[1].hasPrefix("std=") else { return nil }
    let mean = parts[0].dropFirst(5).split(separator: ",").compactMap { Float($0) }
    let deviation = parts[1].dropFirst(4).split(separator: ",").compactMap { Float($0) }
    guard !mean.isEmpty, mean.count == deviation.count,
      mean.count == parts[0].dropFirst(5).split(separator: ",").count,
      deviation.allSatisfy({ $0 > 0 && $0.isFinite })
    else { return nil }
    self.init(mean: mean, standardDeviation: deviation)
  }

  /// Normalizes one image `[C, H, W]` in place.
  func apply(to image: UnsafeMutableBufferPointer<Float>, channels: Int, plane: Int) {
    precondition(channels == self.channels, "Normalization for \(self.channels) channels applied to \(channels)")
    for channel in 0..<channels {
      let shift = mean[channel], scale = 1 / standardDeviation[channel]
      for p in (channel * plane)..<((channel + 1) * plane) { image[p] = (image[p] - shift) * scale }
    }
  }
}

extension Normalization {
  /// `batch` (`[N, C, H, W]`, pixels in `[0, 1]`) with every image normalized.
  public func applied(to batch: Tensor) -> Tensor {
    precondition(batch.shape.rank == 4 && batch.shape[1] == channels,
      "Normalization for \(channels) channels applied to a batch \(batch.shape)")
    var scalars = batch.scalars
    let plane = batch.shape[2] * batch.shape[3]
    let image = channels * plane
    scalars.withUnsafeMutableBufferPointer { buffer in
      for start in stride(from: 0, to: buffer.count, by: image) {
        apply(to: UnsafeMutableBufferPointer(rebasing: buffer[start..<(start + image)]), channels: channels, plane: plane)
      }
    }
    return Tensor(shape: batch.shape, scalars: scalars)
  }
}
