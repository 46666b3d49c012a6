import CNNTensor

/// Labelled images kept as bytes, turned into `Float` tensors one batch at a time.
///
/// Layout: `images` holds `count × C × H × W` bytes (NCHW, row-major, 0 = black or
/// background, 255 = full intensity); `labels[i]` is the class of image `i`, in
/// `0..<classCount`. Keeping bytes makes MNIST's 60,000 images 47 MB rather than 188 MB.
public struct Dataset: Sendable, Equatable {
  /// The pixels, `count × channels × height × width` bytes.
  public var images: [UInt8]
  /// The class index of each image.
  public var labels: [Int]
  /// The number of channels `C` (1 for greyscale).
  public let channels: Int
  /// The image height `H` in pixels.
  public let height: Int
  /// The image width `W` in pixels.
  public let width: Int
  /// A name for each class, indexed by label.
  public var classNames: [String]

  /// Creates a dataset; `images.count` must be `labels.count × channels × height × width`.
  public init(
    images: [UInt8], labels: [Int], channels: Int, height: Int, width: Int, classNames: [String]
  ) {
    precondition(
      channels > 0 && height > 0 && width > 0,
      "Dataset needs positive dimensions, got \(channels)×\(height)×\(width)")
    precondition(
      images.count == labels.count * channels * height * width,
      "Dataset of \(labels.count) images of \(channels)×\(height)×\(width) needs "
        + "\(labels.count * channels * height * width) bytes, got \(images.count)")
    self.images = images
    self.labels = labels
    self.channels = channels
    self.height = height
    self.width = width
    self.classNames = classNames
  }

  /// One image and its label.
  public struct Sample: Sendable, Equatable {
    /// The pixels, `C × H × W` bytes.
    public var pixels: ArraySlice<UInt8>
    /// The class index.
    public var label: Int
  }

  /// The number of images.
  public var count: Int { labels.count }
  /// The number of classes.
  public var classCount: Int { classNames.count }
  /// The bytes per image, `C · H · W`.
  public var pixelsPerImage: Int { channels * height * width }

  /// The image and label at `index`.
  public subscript(index: Int) -> Sample {
    precondition(labels.indices.contains(index), "Index \(index) is out of range 0..<\(count)")
    let start = index * pixelsPerImage
    return Sample(pixels: images[start..<(start + pixelsPerImage)], label: labels[index])
  }

  /// The images at `range`, as a dataset of their own.
  public subscript(range: Range<Int>) -> Dataset {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= count,
      "Range \(range) is out of range 0..<\(count)")
    let size = pixelsPerImage
    return Dataset(
      images: Array(images[(range.lowerBound * size)..<(range.upperBound * size)]),
      labels: Array(labels[range]), channels: channels, height: height, width: width,
      classNames: classNames)
  }

  /// The first `maxLength` images (all of them if there are fewer).
  public func prefix(_ maxLength: Int) -> Dataset {
    precondition(maxLength >= 0, "Cannot take a negative prefix (\(maxLength))")
    return self[0..<min(maxLength, count)]
  }

  /// The images at `indices`, in that order, as a batch.
  ///
  /// Shape: `images` is `[B, C, H, W]` with `B = indices.count`, each pixel divided by 255
  /// into `[0, 1]`; `labels` has `B` entries.
  public func batch(indices: some Collection<Int>) -> Batch {
    let size = pixelsPerImage
    let shape: Shape = [indices.count, channels, height, width]
    let scale = Self.byteToUnit
    let tensor = images.withUnsafeBufferPointer { source in
      Tensor(shape: shape, unsafeUninitialized: { destination in
        var offset = 0
        for index in indices {
          precondition(
            labels.indices.contains(index), "Index \(index) is out of range 0..<\(count)")
          let start = index * size
          for j in 0..<size { destination[offset + j] = scale[Int(source[start + j])] }
          offset += size
        }
      })
    }
    return Batch(images: tensor, labels: indices.map { labels[$0] })
  }

  /// `byteToUnit[p] == Float(p) / 255`.
  static let byteToUnit: [Float] = (0..<256).map { Float($0) / 255 }
}

/// A batch of images as a tensor, with their labels.
public struct Batch: Sendable, Equatable {
  /// The images, `[B, C, H, W]`, pixel values divided by 255 into `[0, 1]`.
  public var images: Tensor
  /// The class index of each image, `B` entries.
  public var labels: [Int]

  /// Creates a batch; `images` must have `labels.count` as its first dimension.
  public init(images: Tensor, labels: [Int]) {
    precondition(
      images.shape.first == labels.count,
      "Batch of \(labels.count) labels needs images [\(labels.count), C, H, W], "
        + "got \(images.shape)")
    self.images = images
    self.labels = labels
  }

  /// The number of images `B`.
  public var count: Int { labels.count }
}
