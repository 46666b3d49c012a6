// Winograd's minimal filtering F(m×m, r×r): a stride-1 r×r convolution computed on m×m
// output tiles with α² multiplications per tile and channel pair (α = m + r − 1) instead of
// m²r² (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
//
//   F(2×2, 3×3)   α = 4    16 instead of  36   (2.25× fewer)
//   F(4×4, 3×3)   α = 6    36 instead of 144   (4×)
//   F(2×2, 5×5)   α = 6    36 instead of 100   (2.8×)
//
// For one input channel's α×α input tile d (rows m·ty − PT …, columns m·tx − PL …) and one
// filter g (r×r), the m×m output tile is
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// with Aᵀ (m × α), G (α × r) and Bᵀ (α × α) built by Cook–Toom from the points 0, 1, −1 (and
// 2, −2 when α = 6) and ∞ (their values are in CCNNKernels/winograd.c). For F(2×2, 3×3):
//
//        ⎡1  0  −1  0⎤        ⎡ 1    0    0 ⎤
//   Bᵀ = ⎢0  1   1  0⎥    G = ⎢1/2  1/2  1/2⎥    Aᵀ = ⎡1  1   1   0⎤
//        ⎢0 −1   1  0⎥        ⎢1/2 −1/2  1/2⎥         ⎣0  1  −1  −1⎦
//        ⎣0  1   0 −1⎦        ⎣ 0    0    1 ⎦
//
// Summed over the input channels, the α² positions ξ of the products are α² GEMMs:
//
//   U[ξ] (K × C) = the transformed filters      V[ξ] (C × T) = the transformed input tiles
//   M[ξ] (K × T) = U[ξ] · V[ξ]                  Y = Aᵀ M A per tile, K × T tiles of m×m
//
// and the gradients follow from the same transforms, since each step is linear:
//
//   dX: a stride-1 convolution of dY with the flipped filters (the same algorithm)
//   dU[ξ] (K × C) = Σ over tiles of (A dY Aᵀ)[ξ] · V[ξ]ᵀ,   dW = Gᵀ dU G per (k, c)
//   dBias[k] = Σ over tiles of (A dY Aᵀ)[1, 1] (Aᵀ's column for the point 1 is all ones, so
//              that entry is the tile's sum)
//
// The tiles of one output map form TH × TW tile rows and columns (TH = ⌈OH/m⌉, TW = ⌈OW/m⌉);
// tiles past the map's last row or column read zeros and their extra outputs are dropped.
// The 6×6 tiles round more than F(2×2, 3×3) (their transforms scale by up to 8 and 1/24): in
// WinogradTests, up to 8e-6 of the largest value against 2e-6, far below what training notices.
// This file holds the shapes and the transforms; Convolution+Winograd.swift the passes.

import CCNNKernels

/// One of the Winograd algorithms CNNKit runs: F(m×m, r×r).
enum WinogradAlgorithm: CaseIterable, CustomStringConvertible {
  case f2x2k3x3
  case f4x4k3x3
  case f2x2k5x5

  /// m: the output tile's side.
  var m: Int { self == .f4x4k3x3 ? 4 : 2 }
  /// r: the filter's side.
  var r: Int { self == .f2x2k5x5 ? 5 : 3 }
  /// α = m + r − 1: the input tile's side.
  var alpha: Int { m + r - 1 }
  /// α²: the products per tile, and the GEMMs per pass.
  var positions: Int { alpha * alpha }
  /// ξ of the tile's sum in `A dY Aᵀ` (the point 1 is the second).
  var sumPosition: Int { alpha + 1 }

  /// The algorithm's number in CCNNKernels.
  var code: Int32 {
    switch self {
    case .f2x2k3x3: Int32(CCNN_WINOGRAD_F2X2_3X3)
    case .f4x4k3x3: Int32(CCNN_WINOGRAD_F4X4_3X3)
    case .f2x2k5x5: Int32(CCNN_WINOGRAD_F2X2_5X5)
    }
  }

  var description: String { "F(\(m)x\(m), \(r)x\(r))" }
}

/// The shape of one Winograd convolution: input `[N, C, H, W]` → output `[N, K, OH, OW]`, r×r
/// filters, stride 1, with `padTop` rows and `padLeft` columns of zeros before the input (the
/// bottom and right padding only decide OH and OW).
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

  /// The shape of a stride-1 `geometry` (r×r kernel) with `outputChannels` filters.
  init(_ geometry: ConvGeometry, outputChannels: Int, algorithm: WinogradAlgorithm) {
    precondition(geometry.kernelHeight == algorithm.r && geometry.kernelWidth == algorithm.r)
    self.algorithm = algorithm
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

  /// m, the output tile's side.
  var m: Int { algorithm.m }
  /// TH = ⌈OH / m⌉: tile rows per image.
  var tileRows: Int { (outputHeight + m - 1) / m }
  /// TW = ⌈OW / m⌉: tiles per tile row.
  var tileColumns: Int { (outputWidth + m - 1) / m }
  /// Floats of one padded row the transforms read: `m · TW + r − 1`, at least `W + PL + PR`
  /// (input column `x` is at `x + padLeft`; everything else is zero) and at least OW.
  var paddedRowLength: Int { m * tileColumns + algorithm.r - 1 }
  /// Floats of a `[C, H, W]` image.
  var imageSize: Int { inputChannels * height * width }
}

/// The α² filter transforms `U[ξ] = G g Gᵀ`, packed as the GEMM micro-kernel's A panels:
/// for each ξ, ⌈K / MR⌉ panels of `C × MR` floats, `panel[c·MR + r] = U[ξ][panel·MR + r, c]`
/// (zero past K). Built once per call; the caller deallocates `storage`.
struct WinogradFilters {
  let storage: FloatBuffer
  let outputs: Int
  let inputs: Int
  let mr: Int
  /// ⌈K / MR⌉.
  let panels: Int

  /// Transforms `weight` `[K, C, r, r]`, or with `flipped`, the filters of the transposed
  /// convolution that gives dX: `g[c][k][i][j] = weight[k][c][r − 1 − i][r − 1 − j]` (then the
  /// outputs are the C channels and the inputs the K). The outputs are split over `threads`.
  init(
    weight: UnsafePointer<Float>, outputs: Int, inputs: Int, flipped: Bool, algorithm: WinogradAlgorithm, mr: Int,
    threads: Int
  ) {
    self.outputs = outputs
    self.inputs = inputs
    self.mr = mr
    panels = (outputs + mr - 1) / mr
    let count = algorithm.positions * panels * inputs * mr
    storage = FloatBuffer(count: count)
    let u = storage.base
    if outputs % mr != 0 { u.initialize(repeating: 0, count: count) }  // the last panel's missing rows
    let work = outputs * inputs * algorithm.positions * algorithm.r * algorithm.r
    parallelChunks(outputs, threads: work < 1 << 18 ? 1 : threads) { _, range in
      ccnn_winograd_filters(
        algorithm.code, weight, outputs, inputs, flipped ? 1 : 0, mr, range.lowerBound, range.upperBound, u)
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
  let shape: WinogradShape

  /// Room for `tileRows` tile rows: `m · tileRows + r − 1` input rows (tile rows overlap by
  /// r − 1), or `m · tileRows` output-gradient rows.
  init(_ shape: WinogradShape, tileRows: Int, gradient: Bool) {
    self.shape = shape
    length = shape.paddedRowLength
    let count = (shape.m * tileRows + (gradient ? 0 : shape.algorithm.r - 1)) * length
    buffer = FloatBuffer(count: count)
    buffer.base.initialize(repeating: 0, count: count)
  }

  func deallocate() { buffer.deallocate() }

  /// Loads the input rows of tile rows `tileRows` of one channel `plane` (`[H, W]`): rows
  /// `m·ty − PT ..< m·ty − PT + α` for each, zero outside the image, column x at `x + PL`.
  func loadInput(plane: UnsafePointer<Float>, tileRows: Range<Int>) {
    let top = shape.m * tileRows.lowerBound - shape.padTop
    for i in 0..<(shape.m * tileRows.count + shape.algorithm.r - 1) {
      let destination = buffer.base + i * length + shape.padLeft
      let y = top + i
      if y >= 0 && y < shape.height {
        destination.update(from: plane + y * shape.width, count: shape.width)
      } else {
        destination.update(repeating: 0, count: shape.width)
      }
    }
  }

  /// `V = Bᵀ d B` for the tiles `tiles` of the loaded tile row `tileRow` (counted from the
  /// first loaded): tile tx's entry ξ into `out[ξ · stride + tx − tiles.lowerBound]`.
  func transformInput(tileRow: Int, tiles: Range<Int>, into out: UnsafeMutablePointer<Float>, stride: Int) {
    ccnn_winograd_input_tiles(
      shape.algorithm.code, buffer.base + shape.m * (tileRow * length + tiles.lowerBound), length, tiles.count, out,
      stride)
  }

  /// Loads the rows of tile rows `tileRows` of one output-gradient channel `plane`
  /// (`[OH, OW]`): rows `m·ty ..< m·ty + m` for each, zero past the map.
  func loadOutputGradient(plane: UnsafePointer<Float>, tileRows: Range<Int>) {
    let width = shape.outputWidth
    for i in 0..<(shape.m * tileRows.count) {
      let y = shape.m * tileRows.lowerBound + i
      let destination = buffer.base + i * length
      if y < shape.outputHeight {
        destination.update(from: plane + y * width, count: width)
      } else {
        destination.update(repeating: 0, count: width)
      }
    }
  }

  /// `A dY Aᵀ` (the gradient of the α² products) for the tiles `tiles` of the loaded tile
  /// row `tileRow`: tile tx's entry ξ into `out[ξ · stride + tx − tiles.lowerBound]`.
  func transformOutputGradient(
    tileRow: Int, tiles: Range<Int>, into out: UnsafeMutablePointer<Float>, stride: Int
  ) {
    ccnn_winograd_gradient_tiles(
      shape.algorithm.code, buffer.base + shape.m * (tileRow * length + tiles.lowerBound), length, tiles.count, out,
      stride)
  }
}

/// `Y = Aᵀ M A + bias` for the tiles `0 ..< TW` of tile row `ty` of one output channel: tile
/// tx's α² products at `m[ξ · mStride + tx]`, its m×m outputs into `output` (`[OH, OW]`, the
/// channel's plane) at the rows and columns that exist.
func winogradOutputTransform(
  _ m: UnsafePointer<Float>, mStride: Int, bias: Float, ty: Int, shape: WinogradShape,
  output: UnsafeMutablePointer<Float>
) {
  let width = shape.outputWidth
  let top = shape.m * ty
  ccnn_winograd_output_tiles(
    shape.algorithm.code, m, mStride, shape.tileColumns, min(shape.m, shape.outputHeight - top), bias,
    output + top * width, width)
}
