// The passes of a convolution computed with Winograd F(2×2, 3×3), F(4×4, 3×3) or F(2×2, 5×5)
// (transforms in Winograd.swift). Below, 16 is the positions of a tile (36 for the 6×6 tiles).
//
// The tile rows of the whole batch (N · TH of them, TW tiles each) are cut into blocks of a
// few tile rows, sized so that a block's transformed input stays in L2; the threads take
// blocks. For one block of T tiles:
//
//   forward   V[ξ] (C × T) = the input tiles transformed, written straight into the
//             micro-kernel's B strips (NR tiles wide)
//             for each MR-row panel of filters:  M[ξ] (MR × T) = U[ξ] · V[ξ], 16 times,
//             then Y = Aᵀ M A (+ bias) for those MR channels, while M is still in L1
//   dInput    the forward pass over dY, with the flipped filters (padding r − 1 − P)
//   dWeight   D[ξ] (K × T) = (A dY Aᵀ)[ξ],  V[ξ] (C × T) as forward, tile-major
//             dU[ξ] (K × C) += D[ξ] · V[ξ]ᵀ (16 GEMMs), per thread; at the end the threads'
//             dU are added in order and dW += Gᵀ dU G
//   dBias     += the sum of D[α + 1] (the tiles' sums) over the block
//
// 2.25× (F(2×2, 3×3)), 4× (F(4×4, 3×3)) or 2.78× (F(2×2, 5×5)) fewer multiplications than
// im2col + GEMM, for the price of the transforms, which read and write each value a few times;
// it wins when there are enough channels for the GEMMs to dominate
// (`ConvolutionPlan.usesWinograd`); its forward pass is in Convolution+WinogradForward.swift.
// On 4×4 and 8×8 maps, F(4×4, 3×3) transforms whole
// images, 16 at a time with AVX-512 and 8 with AVX2, and orders a block's tiles tile-major (`WinogradShape.transformsWholeImages`).
import CCNNKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ConvolutionPlan {
  /// Fewest input and output channels for Winograd; below, the transforms cost more than the
  /// multiplications they save.
  static let winogradMinimumChannels = 16

  /// Whether `CNN_CONV_WINOGRAD=0` in the environment turns Winograd off (to compare).
  static let winogradAllowed = environmentAllows("CNN_CONV_WINOGRAD")

  /// False when the environment variable `name` is `0` (a path turned off, to compare).
  static func environmentAllows(_ name: String) -> Bool {
    guard let text = getenv(name) else { return true }
    return String(cString: text) != "0"
  }

  /// Fewest 2×2 tiles in a call (over the whole batch) for Winograd: each call transforms all
  /// K·C filters (16 floats each, 16 MB at 512 channels), which only pays when enough tiles
  /// share it. ResNet-18 inference at 224², batch 1, ran at 0.43× PyTorch with Winograd on its
  /// 28², 14² and 7² maps (196, 49 and 16 tiles), against 0.92× without.
  static let winogradMinimumTiles = 256

  /// Whether the shape suits Winograd (F(m×m, 3×3) or F(2×2, 5×5)): `suitsWinogradFilters`,
  /// and at least `winogradMinimumTiles` 2×2 tiles.
  var suitsWinograd: Bool {
    let g = geometry
    let tiles = batch * ((g.outputHeight + 1) / 2) * ((g.outputWidth + 1) / 2)
    return suitsWinogradFilters && tiles >= Self.winogradMinimumTiles
  }

  /// Whether Winograd suits the shape when its transformed filters come prepared from an
  /// earlier call (`PreparedFilters`), so a call pays only for its tiles: `suitsWinogradFilters`,
  /// and tiles of the forward pass's size for at least one micro-kernel strip (16 or 32). Fewer
  /// tiles (a 7² map of 4×4 tiles at batch 1) would stream 4× the filters' floats for each
  /// column. Measured on resnet101 inference at 224², batch 1 (below, `PreparedFilters`).
  func suitsPreparedWinograd(columnsPerStrip nr: Int) -> Bool {
    let g = geometry
    let m = winogradOutputTileSize
    let tiles = batch * ((g.outputHeight + m - 1) / m) * ((g.outputWidth + m - 1) / m)
    return suitsWinogradFilters && tiles >= nr
  }

  /// Whether the filters and map suit Winograd, whatever the batch: 3×3 or 5×5 filters, stride
  /// 1, padding less than the filter (dInput's convolution pads by r − 1 − P), one group, enough
  /// channels, and more than `fewPositions` output positions (fewer run at few positions, which
  /// skip the padding's taps and so multiply no more than Winograd would).
  var suitsWinogradFilters: Bool {
    let g = geometry
    let r = g.kernelHeight
    return Self.winogradAllowed && (r == 3 || r == 5) && g.kernelWidth == r && g.strideHeight == 1
      && g.strideWidth == 1 && max(g.padTop, g.padBottom, g.padLeft, g.padRight) < r
      && groups == 1 && inputChannels >= Self.winogradMinimumChannels
      && outputChannels >= Self.winogradMinimumChannels && outputPlane > Self.fewPositions
  }

  /// `CNN_WINOGRAD_TILE=2` or `4` in the environment: the output tile size for 3×3 filters
  /// (to compare), instead of the measured choice.
  static let winogradTileOverride: Int? = {
    guard let text = getenv("CNN_WINOGRAD_TILE"), let m = Int(String(cString: text)), m == 2 || m == 4 else {
      return nil
    }
    return m
  }()

  /// The output tiles for the forward and the backward passes: F(2×2, 5×5) for 5×5 filters; for
  /// 3×3, F(4×4, 3×3) forward, and backward on maps up to 16 wide, F(2×2, 3×3) backward on
  /// wider ones. Measured (`CNN_WINOGRAD_TILE=2` against `4`, `cnn benchmark --threads 2`, AMD
  /// EPYC Zen 4, three rounds): 4×4 tiles ran N128 C256→256 4×4 at 1.4–1.8× forward and
  /// 1.55–1.75× forward+backward, N128 C64→64 8×8 at 0.71 / 1.26 / 1.20× and 1.4–1.6×, N128
  /// C128→128 16×16 at 1.2–1.3× and 1.1–1.5×, resnet18 inference at 224², batch 32, at
  /// 1.15–1.2× (two rounds); on N64 C64→64 56×56 forward at 1.1–1.3×, but forward+backward at
  /// 0.8–1.0×, where the 2×2 tiles' transforms have their vectorized paths and the 4×4 tiles'
  /// backward ones do not.
  var preferredWinogradOutputTileSizes: (forward: Int, backward: Int) {
    guard geometry.kernelHeight == 3 else { return (2, 2) }
    if let m = Self.winogradTileOverride { return (m, m) }
    return (4, geometry.outputWidth <= 16 ? 4 : 2)
  }

  /// The shape of dInput as a Winograd convolution: dY `[N, K, OH, OW]` with the flipped
  /// filters and padding `r − 1 − P` gives `[N, C, H, W]`.
  var winogradTransposedShape: WinogradShape {
    let g = geometry
    let edge = g.kernelHeight - 1
    let transposed = ConvGeometry(
      batch: g.batch, inputChannels: outputChannels, inputHeight: g.outputHeight, inputWidth: g.outputWidth,
      kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, padTop: edge - g.padTop,
      padBottom: edge - g.padBottom, padLeft: edge - g.padLeft, padRight: edge - g.padRight)
    return WinogradShape(transposed, outputChannels: inputChannels, outputTileSize: winogradBackwardOutputTileSize)
  }

  /// The shape of the forward pass as a Winograd convolution.
  var winogradShape: WinogradShape {
    WinogradShape(geometry, outputChannels: outputChannels, outputTileSize: winogradOutputTileSize)
  }

  /// The shape of dWeight's transforms (the forward pass's, with the backward passes' tiles).
  var winogradWeightGradientShape: WinogradShape {
    WinogradShape(geometry, outputChannels: outputChannels, outputTileSize: winogradBackwardOutputTileSize)
  }
}

/// Splits the batch's tile rows into blocks of `rowsPerBlock`, at least `threads` blocks
/// when there are that many tile rows.
struct WinogradBlocks {
  let tileRows: Int
  let rowsPerBlock: Int
  var count: Int { (tileRows + rowsPerBlock - 1) / rowsPerBlock }

  /// Blocks of about `columns` tiles (at least one tile row each; whole images when the shape
  /// `transformsWholeImages`).
  init(_ shape: WinogradShape, columns: Int, threads: Int) {
    tileRows = shape.batch * shape.tileRows
    let rows = max(1, columns / max(1, shape.tileColumns))
    let perThread = (tileRows + max(1, threads) - 1) / max(1, threads)
    let imageRows = shape.transformsWholeImages ? shape.tileRows : 1
    rowsPerBlock = roundUp(max(1, min(rows, perThread)), to: imageRows)
  }

  /// One block of `rowsPerBlock` tile rows (`WinogradSplit.panels` passes all of them).
  init(_ shape: WinogradShape, rowsPerBlock: Int) {
    tileRows = shape.batch * shape.tileRows
    self.rowsPerBlock = max(1, rowsPerBlock)
  }

  /// The images whose tile rows are `rows` (`tileRows` = TH per image; blocks of whole images).
  func images(_ rows: Range<Int>, tileRows: Int) -> Range<Int> {
    (rows.lowerBound / tileRows)..<(rows.upperBound / tileRows)
  }

  /// The global tile rows (`n · TH + ty`) of block `block`.
  func rows(ofBlock block: Int) -> Range<Int> {
    (block * rowsPerBlock)..<min(tileRows, (block + 1) * rowsPerBlock)
  }

  /// The tile rows of one image within a block: the image, its tile rows `ty`, and their
  /// places in the block.
  struct ImageRun {
    let image: Int
    let tileRows: Range<Int>
    let localRows: Range<Int>
  }

  /// The block's global tile rows `rows`, cut where one image ends and the next begins
  /// (`tileRows` = TH per image).
  func imageRuns(_ rows: Range<Int>, tileRows: Int) -> [ImageRun] {
    var runs: [ImageRun] = []
    var row = rows.lowerBound
    while row < rows.upperBound {
      let image = row / tileRows, ty = row % tileRows
      let count = min(tileRows - ty, rows.upperBound - row)
      let local = row - rows.lowerBound
      runs.append(ImageRun(image: image, tileRows: ty..<(ty + count), localRows: local..<(local + count)))
      row += count
    }
    return runs
  }
}

/// The distance between the 16 (36) matrices of one transformed block: `floats` rounded up to a
/// cache line, plus one, so that a tile's 16 entries never share an L1 set (with a multiple
/// of 4 KB between them, as `C · T` floats often is, they would all fall in the same set).
func winogradStride(_ floats: Int) -> Int { roundUp(floats, to: 16) + 16 }

/// Remembers, per thread, which image a closure last produced, so that tile rows of the same
/// image do not ask for it again.
struct CachedImage {
  private var index = -1
  private var pointer: UnsafePointer<Float>?

  mutating func image(
    _ n: Int, scratch: UnsafeMutablePointer<Float>,
    _ produce: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
  ) -> UnsafePointer<Float> {
    if n != index || pointer == nil {
      pointer = produce(n, scratch)
      index = n
    }
    return pointer!
  }
}

/// The weight and bias gradients: `dWeight [K, C, r, r] += Gᵀ dU G` and `dBias [K] +=` the
/// sums of dY, image n's dY `[K, OH, OW]` given by `dOutputImage(n, scratch)`. Each thread
/// sums its blocks into its own dU; the threads' sums are added in order (deterministic for a
/// given thread count).
func winogradWeightGradient(
  shape: WinogradShape, input: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
  dBias: UnsafeMutablePointer<Float>?, kernel: GEMMKernel = .current, threads: Int, imageScratchCount: Int,
  dOutputImage: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
) {
  let (channels, outputs, tileColumns) = (shape.inputChannels, shape.outputChannels, shape.tileColumns)
  let positions = shape.positions
  // D and V together (16 · (K + C) · T floats) about 8 MB: the GEMMs' depth is T, and every
  // block adds into the thread's whole dU.
  let blocks = WinogradBlocks(
    shape, columns: max(64, min(4096, (1 << 21) / (positions * (channels + outputs)))), threads: threads)
  let chunks = max(1, min(threads, blocks.count))
  let ld = blocks.rowsPerBlock * tileColumns
  let gradientCount = positions * outputs * channels
  let vStride = winogradStride(channels * ld), dStride = winogradStride(outputs * ld)
  // Each thread's dU and bias sums (zeroed by the thread itself, in parallel).
  let gradients = FloatBuffer(count: chunks * (gradientCount + outputs))
  defer { gradients.deallocate() }
  // 4×4 and 8×8 maps: 16 or 8 images at a time, each image's dY in its own slot of scratch (as
  // forward).
  let wholeImages = shape.transformsWholeImages
  let scratchSlots = wholeImages ? blocks.rowsPerBlock / shape.tileRows : 1

  parallelChunks(blocks.count, threads: chunks) { chunk, range in
    let du = gradients.base + chunk * (gradientCount + outputs)
    du.initialize(repeating: 0, count: gradientCount + outputs)
    let biasSums = du + gradientCount
    let v = FloatBuffer(count: positions * vStride)
    let d = FloatBuffer(count: positions * dStride)
    let inputRows = WinogradRows(shape, tileRows: blocks.rowsPerBlock, gradient: false)
    let gradientRows = WinogradRows(shape, tileRows: blocks.rowsPerBlock, gradient: true)
    let imageScratch = FloatBuffer(count: imageScratchCount * scratchSlots)
    defer {
      for buffer in [v, d, imageScratch] { buffer.deallocate() }
      inputRows.deallocate()
      gradientRows.deallocate()
    }
    var cache = CachedImage()
    var images: [UnsafePointer<Float>] = []
    for block in range {
      let rows = blocks.rows(ofBlock: block)
      let columns = rows.count * tileColumns
      if wholeImages {
        let blockImages = blocks.images(rows, tileRows: shape.tileRows)
        if dWeight != nil {
          images.removeAll(keepingCapacity: true)
          for n in blockImages { images.append(input + n * shape.imageSize) }
          ccnn_winograd4_input_images(
            images, images.count, shape.height, channels, shape.padTop, shape.padLeft, v.base, ld, vStride, 0, 0, 0)
        }
        images.removeAll(keepingCapacity: true)
        for (slot, n) in blockImages.enumerated() {
          images.append(dOutputImage(n, imageScratch.base + slot * imageScratchCount))
        }
        ccnn_winograd4_gradient_images(images, images.count, shape.outputHeight, outputs, d.base, ld, dStride, 0)
      }
      for run in blocks.imageRuns(rows, tileRows: shape.tileRows) where !wholeImages {
        let first = run.localRows.lowerBound * tileColumns
        if dWeight != nil {
          inputRows.transformInput(
            image: input + run.image * shape.imageSize, shape: shape, tileRows: run.tileRows, first: first,
            into: v.base, channelStep: ld, stride: vStride)
        }
        let dy = cache.image(run.image, scratch: imageScratch.base, dOutputImage)
        gradientRows.transformOutputGradient(
          image: dy, shape: shape, tileRows: run.tileRows, into: d.base + first, channelStep: ld, stride: dStride)
      }
      if dBias != nil {
        let sums = d.base + shape.tileSumPosition * dStride
        for k in 0..<outputs { biasSums[k] += sumFloats(sums + k * ld, count: columns) }
      }
      if dWeight != nil {
        for xi in 0..<positions {
          gemm(
            kernel: kernel, m: outputs, a: d.base + xi * dStride, lda: ld,
            b: StridedMatrix(v.base + xi * vStride, rows: columns, columns: channels, leadingDimension: ld, transposed: true),
            beta: 1, c: du + xi * outputs * channels, ldc: channels, threads: 1)
        }
      }
    }
  }

  // Add the threads' sums in order, then dW += Gᵀ dU G per (k, c) and dBias += the sums.
  let sumCount = gradientCount + outputs
  addPartialSums(
    gradients.base + sumCount, partStride: sumCount, partCount: chunks - 1, into: gradients.base, count: sumCount,
    threads: threads)
  if let dWeight {
    let pairs = outputs * channels
    let transform = shape.algorithm.transforms.filterGradients
    parallelChunks(pairs, threads: pairs < 1 << 12 ? 1 : threads) { _, range in
      transform(gradients.base, pairs, range.lowerBound, range.upperBound, dWeight)
    }
  }
  if let dBias {
    for k in 0..<outputs { dBias[k] += gradients.base[gradientCount + k] }
  }
}

/// `conv2DForward` by Winograd (`plan.usesWinograd`).
func conv2DForwardWinograd(
  plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
  output: UnsafeMutablePointer<Float>, threads: Int
) {
  let shape = plan.winogradShape
  let kernel = GEMMKernel.current
  let filters = WinogradFilters(
    weight: weight, algorithm: shape.algorithm, outputs: plan.outputChannels, inputs: plan.inputChannels,
    flipped: false, mr: kernel.mr, threads: threads)
  defer { filters.storage.deallocate() }
  winogradForward(shape: shape, filters: filters, bias: bias, output: output, kernel: kernel, threads: threads) { n, _ in
    input + n * shape.imageSize
  }
}

/// `conv2DBackward` by Winograd (`plan.usesWinograd`): dInput as the forward pass over dY with
/// the flipped filters, then dWeight and dBias.
func conv2DBackwardWinograd(
  plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
  threads: Int, imageScratchCount: Int,
  dOutputImage: (_ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>
) {
  let kernel = GEMMKernel.current
  if let dInput {
    let filters = WinogradFilters(
      weight: weight, algorithm: plan.winogradTransposedShape.algorithm, outputs: plan.inputChannels,
      inputs: plan.outputChannels, flipped: true, mr: kernel.mr, threads: threads)
    defer { filters.storage.deallocate() }
    winogradForward(
      shape: plan.winogradTransposedShape, filters: filters, bias: nil, output: dInput, kernel: kernel,
      threads: threads, imageScratchCount: imageScratchCount, image: dOutputImage)
  }
  if dWeight != nil || dBias != nil {
    winogradWeightGradient(
      shape: plan.winogradWeightGradientShape, input: input, dWeight: dWeight,
      dBias: dBias, kernel: kernel, threads: threads, imageScratchCount: imageScratchCount,
      dOutputImage: dOutputImage)
  }
}
