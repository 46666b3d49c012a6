// Winograd's minimal filtering F(m×m, r×r): an r×r, stride-1 convolution computed on m×m
// output tiles from α×α input tiles (α = m + r − 1) with α² multiplications per tile and
// channel pair instead of m²r² (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016). CNNKit has F(2×2, 3×3) (16 against 36), F(4×4, 3×3) (36 against 144) and
// F(2×2, 5×5) (36 against 100). F(2×2, 3×3) is written out below; the others are the same with
// 6×6 tiles and the matrices in CCNNKernels/winograd4x4.c and winograd5x5.c, so read 16 as 36,
// 4 as 6 and 2 as m for them.
//
// For one input channel's 4×4 input tile d (rows 2ty − PT …, columns 2tx − PL …) and one
// filter g (3×3), the 2×2 output tile is
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
//        ⎡1  0  −1  0⎤        ⎡ 1    0    0 ⎤
//   Bᵀ = ⎢0  1   1  0⎥    G = ⎢1/2  1/2  1/2⎥    Aᵀ = ⎡1  1   1   0⎤
//        ⎢0 −1   1  0⎥        ⎢1/2 −1/2  1/2⎥         ⎣0  1  −1  −1⎦
//        ⎣0  1   0 −1⎦        ⎣ 0    0    1 ⎦
//
// Summed over the input channels, the 16 positions ξ of the 4×4 products are 16 GEMMs:
//
//   U[ξ] (K × C) = the transformed filters      V[ξ] (C × T) = the transformed input tiles
//   M[ξ] (K × T) = U[ξ] · V[ξ]                  Y = Aᵀ M A per tile, K × T tiles of 2×2
//
// and the gradients follow from the same transforms, since each step is linear:
//
//   dX: a stride-1 convolution of dY with the flipped filters (the same algorithm)
//   dU[ξ] (K × C) = Σ over tiles of (A dY Aᵀ)[ξ] · V[ξ]ᵀ,   dW = Gᵀ dU G per (k, c)
//   dBias[k] = Σ over tiles of (A dY Aᵀ)[1, 1] (that entry is the tile's sum)
//
// The tiles of one output map form TH × TW tile rows and columns (TH = ⌈OH/m⌉, TW = ⌈OW/m⌉);
// tiles past the map's last row or column read zeros and their extra outputs are dropped.
// This file holds the shape and the three transforms; Convolution+Winograd.swift the passes.

import CCNNKernels

/// One of the Winograd algorithms F(m×m, r×r), and its transforms in CCNNKernels.
struct WinogradAlgorithm: Hashable, CustomStringConvertible {
  /// m, the output tiles' height and width.
  let outputTileSize: Int
  /// r, the filters' height and width.
  let kernelSize: Int

  static let f2x3 = WinogradAlgorithm(outputTileSize: 2, kernelSize: 3)
  static let f4x3 = WinogradAlgorithm(outputTileSize: 4, kernelSize: 3)
  static let f2x5 = WinogradAlgorithm(outputTileSize: 2, kernelSize: 5)

  /// The algorithm for `kernelSize` × `kernelSize` filters and `outputTileSize` tiles: F(2×2, 3×3),
  /// F(4×4, 3×3) or F(2×2, 5×5).
  init(outputTileSize: Int, kernelSize: Int) {
    precondition(
      (outputTileSize == 2 && (kernelSize == 3 || kernelSize == 5)) || (outputTileSize == 4 && kernelSize == 3),
      "Winograd runs F(2×2, 3×3), F(4×4, 3×3) and F(2×2, 5×5), not F(\(outputTileSize)×\(outputTileSize), \(kernelSize)×\(kernelSize))")
    self.outputTileSize = outputTileSize
    self.kernelSize = kernelSize
  }

  var description: String { "F(\(outputTileSize)×\(outputTileSize), \(kernelSize)×\(kernelSize))" }
  /// α = m + r − 1: the input tiles are α × α.
  var tileSize: Int { outputTileSize + kernelSize - 1 }
  /// α²: the positions ξ of a tile, and so the GEMMs.
  var positions: Int { tileSize * tileSize }

  typealias FilterTransform = @convention(c) (
    UnsafePointer<Float>, Int, Int, Int32, Int, Int, Int, UnsafeMutablePointer<Float>
  ) -> Void
  typealias FilterGradientTransform = @convention(c) (
    UnsafePointer<Float>, Int, Int, Int, UnsafeMutablePointer<Float>
  ) -> Void
  typealias InputPlanesTransform = @convention(c) (
    UnsafePointer<Float>, Int, Int, Int, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>, Int, Int,
    UnsafeMutablePointer<Float>, Int, Int, Int, Int, Int
  ) -> Void
  typealias GradientPlanesTransform = @convention(c) (
    UnsafePointer<Float>, Int, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>, Int, Int,
    UnsafeMutablePointer<Float>, Int, Int
  ) -> Void
  typealias OutputRowsTransform = @convention(c) (
    UnsafePointer<Float>, Int, Int, Int, Int, Float, UnsafeMutablePointer<Float>, Int
  ) -> Void

  /// The algorithm's transforms in CCNNKernels (the F(2×2, 3×3) ones are `ccnn_winograd_*`).
  struct Transforms {
    /// `U = G g Gᵀ`.
    let filters: FilterTransform
    /// `dg += Gᵀ du G`.
    let filterGradients: FilterGradientTransform
    /// `V = Bᵀ d B` of every channel of an image's run of tile rows.
    let inputPlanes: InputPlanesTransform
    /// `A dY Aᵀ` of every channel of an image's run of tile rows.
    let gradientPlanes: GradientPlanesTransform
    /// `Y = Aᵀ M A + bias` of one channel's run of tile rows.
    let outputRows: OutputRowsTransform
  }

  var transforms: Transforms {
    switch (outputTileSize, kernelSize) {
    case (4, _):
      return Transforms(
        filters: ccnn_winograd4_filters, filterGradients: ccnn_winograd4_filter_gradients,
        inputPlanes: ccnn_winograd4_input_planes, gradientPlanes: ccnn_winograd4_gradient_planes,
        outputRows: ccnn_winograd4_output_rows)
    case (_, 5):
      return Transforms(
        filters: ccnn_winograd5_filters, filterGradients: ccnn_winograd5_filter_gradients,
        inputPlanes: ccnn_winograd5_input_planes, gradientPlanes: ccnn_winograd5_gradient_planes,
        outputRows: ccnn_winograd5_output_rows)
    default:
      return Transforms(
        filters: ccnn_winograd_filters, filterGradients: ccnn_winograd_filter_gradients,
        inputPlanes: ccnn_winograd_input_planes, gradientPlanes: ccnn_winograd_gradient_planes,
        outputRows: ccnn_winograd_output_rows)
    }
  }
}

/// The shape of one Winograd convolution: input `[N, C, H, W]` → output `[N, K, OH, OW]`,
/// r×r filters, stride 1, with `padTop` rows and `padLeft` columns of zeros before the
/// input (the bottom and right padding only decide OH and OW), on m×m output tiles.
struct WinogradShape: Equatable {
  let algorithm: WinogradAlgorithm
  let batch: Int
  let inputChannels: Int
  let height: Int
  let width: Int
  let outputChannels: Int
  let outputHeight: Int
  let outputWidth: Int
  let padTop: Int
  let padLeft: Int

  /// The shape of a 3×3 or 5×5, stride-1 `geometry` with `outputChannels` filters, on output
  /// tiles of `outputTileSize` (2, or 4 for 3×3 filters).
  init(_ geometry: ConvGeometry, outputChannels: Int, outputTileSize: Int = 2) {
    precondition(
      geometry.kernelHeight == geometry.kernelWidth && [3, 5].contains(geometry.kernelHeight),
      "Winograd takes 3×3 or 5×5 filters, got \(geometry.kernelHeight)×\(geometry.kernelWidth)")
    algorithm = WinogradAlgorithm(outputTileSize: outputTileSize, kernelSize: geometry.kernelHeight)
    batch = geometry.batch
    inputChannels = geometry.inputChannels
    height = geometry.inputHeight
    width = geometry.inputWidth
    self.outputChannels = outputChannels
    outputHeight = geometry.outputHeight
    outputWidth = geometry.outputWidth
    padTop = geometry.padTop
    padLeft = geometry.padLeft
  }

  /// r, the filters' height and width: 3 or 5.
  var kernelSize: Int { algorithm.kernelSize }
  /// m, the output tiles' height and width: 2 or 4.
  var outputTileSize: Int { algorithm.outputTileSize }
  /// α = m + r − 1: the input tiles are α × α.
  var tileSize: Int { algorithm.tileSize }
  /// α²: the positions ξ of a tile, and so the GEMMs.
  var positions: Int { algorithm.positions }
  /// The position whose entry of `A dY Aᵀ` is the sum of the tile's dY (row and column 1 of
  /// A are all ones): ξ = α + 1.
  var tileSumPosition: Int { tileSize + 1 }
  /// TH = ⌈OH / m⌉: tile rows per image.
  var tileRows: Int { (outputHeight + outputTileSize - 1) / outputTileSize }
  /// TW = ⌈OW / m⌉: tiles per tile row.
  var tileColumns: Int { (outputWidth + outputTileSize - 1) / outputTileSize }
  /// Floats of one padded input row the input transform reads: `m · TW + r − 1`, at least
  /// `W + PL + PR` (input column `x` is at `x + padLeft`; everything else is zero).
  var paddedRowLength: Int { outputTileSize * tileColumns + kernelSize - 1 }
  /// Floats of a `[C, H, W]` image.
  var imageSize: Int { inputChannels * height * width }

  /// Whether the passes transform whole images (`ccnn_winograd4_input_images` and
  /// its kin), their tiles ordered tile-major in a block: F(4×4, 3×3) on square 4×4 or 8×8
  /// input and output maps, on a CPU with AVX2 or AVX-512 (8 or 16 images at a time).
  var transformsWholeImages: Bool {
    outputTileSize == 4 && (height == 4 || height == 8) && width == height && outputHeight == height
      && outputWidth == height && ccnn_winograd4_images_supported() != 0
  }
}

/// The 16 (36) filter transforms `U[ξ] = G g Gᵀ`, packed as the GEMM micro-kernel's A panels:
/// for each ξ, ⌈K / MR⌉ panels of `C × MR` floats, `panel[c·MR + r] = U[ξ][panel·MR + r, c]`
/// (zero past K). Built once per call; the caller deallocates `storage`.
struct WinogradFilters {
  let storage: FloatBuffer
  let algorithm: WinogradAlgorithm
  let outputs: Int
  let inputs: Int
  let mr: Int
  /// ⌈K / MR⌉.
  let panels: Int

  /// Transforms `weight` `[K, C, r, r]`, or with `flipped`, the filters of the transposed
  /// convolution that gives dX: `g[c][k][i][j] = weight[k][c][r − 1 − i][r − 1 − j]` (then the
  /// outputs are the C channels and the inputs the K). The outputs are split over `threads`.
  init(
    weight: UnsafePointer<Float>, algorithm: WinogradAlgorithm, outputs: Int, inputs: Int, flipped: Bool, mr: Int,
    threads: Int
  ) {
    self.algorithm = algorithm
    self.outputs = outputs
    self.inputs = inputs
    self.mr = mr
    panels = (outputs + mr - 1) / mr
    let positions = algorithm.positions
    let kernelSize = algorithm.kernelSize
    let count = positions * panels * inputs * mr
    storage = FloatBuffer(count: count)
    let u = storage.base
    if outputs % mr != 0 {
      // The last panel's missing rows: zero that panel of every position (the transform
      // writes the rest), not all of U (4.4 MB at 256 channels, on one thread).
      let panelSize = inputs * mr
      for xi in 0..<positions {
        (u + (xi * panels + panels - 1) * panelSize).initialize(repeating: 0, count: panelSize)
      }
    }
    let work = outputs * inputs * kernelSize * kernelSize * positions
    let transform = algorithm.transforms.filters
    parallelChunks(outputs, threads: work < 1 << 18 ? 1 : threads) { _, range in
      transform(weight, outputs, inputs, flipped ? 1 : 0, mr, range.lowerBound, range.upperBound, u)
    }
  }

  /// The A panel of position `xi` and rows `panel·MR ..< panel·MR + MR`: `C × MR` floats.
  func panel(_ xi: Int, _ panel: Int) -> UnsafePointer<Float> {
    UnsafePointer(storage.base + (xi * panels + panel) * inputs * mr)
  }
}

/// The padded rows the transforms read for a run of tile rows of one channel (per thread;
/// each transform keeps its own, since each relies on zeros the other would overwrite).
struct WinogradRows {
  /// Rows of `length` floats: zero outside the map's columns, which no load writes.
  let buffer: FloatBuffer
  let length: Int
  let algorithm: WinogradAlgorithm
  /// TW, the tiles of each tile row.
  let tileColumns: Int

  /// Room for `tileRows` tile rows: `m · tileRows + r − 1` input rows (tile rows overlap by
  /// r − 1), or `m · tileRows` output-gradient rows.
  init(_ shape: WinogradShape, tileRows: Int, gradient: Bool) {
    length = shape.paddedRowLength
    tileColumns = shape.tileColumns
    algorithm = shape.algorithm
    // With 64 floats after the rows: the AVX-512 input transforms load whole vectors.
    let count = (shape.outputTileSize * tileRows + (gradient ? 0 : shape.kernelSize - 1)) * length + 64
    buffer = FloatBuffer(count: count)
    buffer.base.initialize(repeating: 0, count: count)
  }

  func deallocate() { buffer.deallocate() }

  /// `V = Bᵀ d B` for every tile of tile rows `tileRows` of every channel of one image `[C, H, W]`
  /// (arithmetic and row loading in CCNNKernels/winograd.c, one call for all the channels):
  /// channel c's input rows `2ty − PT ..< 2ty − PT + r + 1` of each tile row are loaded into the
  /// buffer (zero outside the image, column x at `x + PL`), then tile tx of the i-th loaded tile
  /// row, the block's tile `q = first + i·TW + tx`, has its entry ξ stored at
  /// `out[c · channelStep + ξ · stride + q]`, or with `nr`, at
  /// `out[c · channelStep + ξ · stride + (q / nr) · strip + q % nr]` (the GEMM's B strips).
  ///
  ///   vertical   t0 = d0 − d2,  t1 = d1 + d2,  t2 = d2 − d1,  t3 = d1 − d3   (input rows)
  ///   across     v[i][0] = t_i[2tx] − t_i[2tx+2],  v[i][1] = t_i[2tx+1] + t_i[2tx+2],
  ///              v[i][2] = t_i[2tx+2] − t_i[2tx+1],  v[i][3] = t_i[2tx+1] − t_i[2tx+3]
  func transformInput(
    image: UnsafePointer<Float>, shape: WinogradShape, tileRows: Range<Int>, first: Int,
    into out: UnsafeMutablePointer<Float>, channelStep: Int, stride: Int, nr: Int = 0, strip: Int = 0
  ) {
    precondition(shape.algorithm == algorithm, "rows sized for \(algorithm), the shape runs \(shape.algorithm)")
    algorithm.transforms.inputPlanes(
      image, shape.height * shape.width, shape.inputChannels, shape.height, shape.width, shape.padTop, shape.padLeft,
      tileRows.lowerBound, tileRows.count, buffer.base, length, tileColumns, out, channelStep, stride, first, nr, strip)
  }

  /// `A dY Aᵀ` (the gradient of the 16 products) for every tile of tile rows `tileRows` of every
  /// output-gradient channel of one image `[K, OH, OW]` (in C, one call for all the channels):
  /// channel k's rows `2ty` and `2ty + 1` of each tile row (zero past the map) are loaded, then
  /// tile tx of the i-th loaded tile row has its entry ξ stored at
  /// `out[k · channelStep + ξ · stride + i·TW + tx]`. With `y_a` the tile's row a:
  ///
  ///   vertical   u0 = y0,  u1 = y0 + y1,  u2 = y0 − y1,  u3 = −y1
  ///   across     w[i][0] = u_i[2tx],  w[i][1] = u_i[2tx] + u_i[2tx+1],
  ///              w[i][2] = u_i[2tx] − u_i[2tx+1],  w[i][3] = −u_i[2tx+1]
  func transformOutputGradient(
    image: UnsafePointer<Float>, shape: WinogradShape, tileRows: Range<Int>, into out: UnsafeMutablePointer<Float>,
    channelStep: Int, stride: Int
  ) {
    precondition(shape.algorithm == algorithm, "rows sized for \(algorithm), the shape runs \(shape.algorithm)")
    algorithm.transforms.gradientPlanes(
      image, shape.outputHeight * shape.outputWidth, shape.outputChannels, shape.outputHeight, shape.outputWidth,
      tileRows.lowerBound, tileRows.count, buffer.base, length, tileColumns, out, channelStep, stride)
  }
}

/// `Y = Aᵀ M A + bias` for the tile rows `tileRows` of one output channel: tile tx of the i-th
/// row's 16 products at `m[ξ · mStride + i·TW + tx]`, its 2×2 outputs into `output` (`[OH, OW]`,
/// the channel's plane) at rows 2ty, 2ty + 1 and columns 2tx, 2tx + 1 that exist (arithmetic
/// in C).
///
///   s_j = m[0][j] + m[1][j] + m[2][j],  t_j = m[1][j] − m[2][j] − m[3][j]   (down the rows)
///   Y = ⎡s0 + s1 + s2   s1 − s2 − s3⎤
///       ⎣t0 + t1 + t2   t1 − t2 − t3⎦
func winogradOutputTransform(
  _ m: UnsafePointer<Float>, mStride: Int, bias: Float, tileRows: Range<Int>, shape: WinogradShape,
  output: UnsafeMutablePointer<Float>
) {
  let width = shape.outputWidth
  let top = shape.outputTileSize * tileRows.lowerBound
  shape.algorithm.transforms.outputRows(m, mStride, tileRows.count, shape.tileColumns, shape.outputHeight - top, bias, output + top * width, width)
}
