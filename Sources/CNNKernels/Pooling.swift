// 2-D pooling over NCHW batches (max, average and min), forward above backward. The
// direct-loop references are in Pooling+Naive.swift.
//
//   input [N, C, H, W], output [N, C, OH, OW], argIndex [N, C, OH, OW] (Int32, max/min only)
//   window (oh, ow) covers rows oh*SH - PT ..< oh*SH - PT + KH and likewise for columns.
//
// Semantics follow PyTorch: padded positions never win max/min (the padding acts as -inf for
// max and +inf for min); average divides by KH*KW, counting padded positions as zeros
// (count_include_pad = true). A NaN in a window wins max and min (the first NaN in scan
// order), so NaNs propagate. Ties go to the first position in scan order (row by row).
// argIndex records the winner's offset within its image plane, h*W + w; backward routes each
// output gradient there, adding where overlapping windows share a winner.
//
// The fast versions split the N*C planes over threads. Max and min forward run in C
// (CCNNKernels/pooling.c: eight outputs of a row at a time), or four planes at a time for
// planes too narrow for that (Pooling+SmallPlanes.swift); average and the backward passes
// special-case the common 2x2 window with stride 2 and no padding.

import CCNNKernels

/// How a pooling window reduces its values to one.
public enum PoolingMode: String, Sendable, CaseIterable {
  /// The largest value in the window (padding never wins).
  case max
  /// The mean of the window, padding counted as zeros: sum / (KH*KW).
  case average
  /// The smallest value in the window (padding never wins).
  case min
}

/// Pools each channel of an NCHW batch with a sliding window.
///
/// Shape: input `[N, C, H, W]` -> output `[N, C, OH, OW]`, where
/// `OH = (H + PT + PB - KH) / SH + 1` (floor), and likewise for `OW` (`ConvGeometry`).
/// `output[n, c, oh, ow]` is the max, average (sum / (KH*KW)) or min of
/// `input[n, c, oh*SH - PT + kh, ow*SW - PL + kw]` over the window positions inside the input.
///
/// - Parameters:
///   - input: The batch `[N, C, H, W]`.
///   - output: Receives `[N, C, OH, OW]` (overwritten).
///   - geometry: N, C, H, W, window, stride and padding (each padding smaller than the window).
///   - mode: `.max`, `.average` or `.min`.
///   - argIndex: For max and min, receives `[N, C, OH, OW]`: each winner's offset `h*W + w`
///     within its plane (needed by `pool2DBackward`); `nil` to skip. Unused for average.
///   - threads: Threads to split the N*C planes over.
/// - Complexity: O(N * C * OH * OW * KH * KW).
public func pool2DForward(
  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
  mode: PoolingMode, argIndex: UnsafeMutablePointer<Int32>?, threads: Int = ComputeThreads.count
) {
  checkPoolingGeometry(g, caller: "pool2DForward")
  let inputPlane = g.inputPlaneSize, outputPlane = g.outputPlaneSize
  let twoByTwo = g.isTwoByTwoStrideTwo
  if mode != .average && poolsAsSmallPlanes(g) {
    let taps = WindowTaps(g)
    parallelChunks(g.batch * g.inputChannels, threads: threads) { _, planes in
      if mode == .max {
        extremumSmallPlanesForward(input, output, argIndex, planes: planes, taps: taps, geometry: g, order: MaxOrder.self)
      } else {
        extremumSmallPlanesForward(input, output, argIndex, planes: planes, taps: taps, geometry: g, order: MinOrder.self)
      }
    }
    return
  }
  parallelChunks(g.batch * g.inputChannels, threads: threads) { _, planes in
    guard mode == .average else {
      extremumPlanesForward(input, output, argIndex, planes: planes, geometry: g, isMax: mode == .max)
      return
    }
    for plane in planes {
      let x = input + plane * inputPlane, y = output + plane * outputPlane
      if twoByTwo {
        averagePlaneForward2x2(x, y, geometry: g)
      } else {
        averagePlaneForward(x, y, geometry: g)
      }
    }
  }
}

/// The gradient of `pool2DForward` with respect to its input.
///
/// Shape: dOutput `[N, C, OH, OW]` -> dInput `[N, C, H, W]`. For max and min, each
/// `dOutput[n, c, oh, ow]` goes to the winner recorded in `argIndex` (summed where windows
/// overlap); for average, `dOutput / (KH*KW)` goes to every window position inside the input.
/// dInput is overwritten.
///
/// - Parameters:
///   - dOutput: The gradient with respect to the output, `[N, C, OH, OW]`.
///   - dInput: Receives `[N, C, H, W]` (overwritten).
///   - geometry: As in the forward call.
///   - mode: As in the forward call.
///   - argIndex: The winners recorded by `pool2DForward` (required for max and min).
///   - threads: Threads to split the N*C planes over.
/// - Complexity: O(N * C * (H * W + OH * OW)) for max and min; O(N * C * OH * OW * KH * KW) for
///   average.
public func pool2DBackward(
  dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
  mode: PoolingMode, argIndex: UnsafePointer<Int32>?, threads: Int = ComputeThreads.count
) {
  checkPoolingGeometry(g, caller: "pool2DBackward")
  precondition(mode == .average || argIndex != nil, "pool2DBackward: \(mode) pooling needs the forward argIndex")
  let inputPlane = g.inputPlaneSize, outputPlane = g.outputPlaneSize
  let twoByTwo = g.isTwoByTwoStrideTwo
  parallelChunks(g.batch * g.inputChannels, threads: threads) { _, planes in
    for plane in planes {
      let dy = dOutput + plane * outputPlane
      let dx = dInput + plane * inputPlane
      if mode == .average {
        if twoByTwo {
          averagePlaneBackward2x2(dy, dx, geometry: g)
        } else {
          fillZero(dx, count: inputPlane)
          averagePlaneBackward(dy, dx, geometry: g)
        }
      } else if let argIndex {
        let index = argIndex + plane * outputPlane
        if twoByTwo {
          extremumPlaneBackward2x2(dy, dx, index, geometry: g)
        } else {
          fillZero(dx, count: inputPlane)
          for o in 0..<outputPlane { dx[Int(index[o])] += dy[o] }
        }
      }
    }
  }
}

// MARK: - Max and min

/// The order max or min pooling picks its winner by. A candidate wins over the best so far
/// when it is strictly better, or when it is the first NaN (so NaNs propagate).
protocol PoolingOrder {
  /// Whether this is max pooling's order (the C kernel's `is_max`).
  static var isMax: Bool { get }
  static func prefers(_ candidate: Float, over best: Float) -> Bool
  static func prefers(_ candidate: SIMD4<Float>, over best: SIMD4<Float>) -> SIMDMask<SIMD4<Int32>>
}

/// Max pooling's order: larger wins.
enum MaxOrder: PoolingOrder {
  static var isMax: Bool { true }

  @inline(__always)
  static func prefers(_ candidate: Float, over best: Float) -> Bool {
    candidate > best || (candidate != candidate && best == best)
  }

  @inline(__always)
  static func prefers(_ candidate: SIMD4<Float>, over best: SIMD4<Float>) -> SIMDMask<SIMD4<Int32>> {
    (candidate .> best) .| ((candidate .!= candidate) .& (best .== best))
  }
}

/// Min pooling's order: smaller wins.
enum MinOrder: PoolingOrder {
  static var isMax: Bool { false }

  @inline(__always)
  static func prefers(_ candidate: Float, over best: Float) -> Bool {
    candidate < best || (candidate != candidate && best == best)
  }

  @inline(__always)
  static func prefers(_ candidate: SIMD4<Float>, over best: SIMD4<Float>) -> SIMDMask<SIMD4<Int32>> {
    (candidate .< best) .| ((candidate .!= candidate) .& (best .== best))
  }
}

/// Whether `candidate` beats `best` for max (`max: true`) or min pooling; the naive versions
/// use it, so both pick the same winner.
func poolingPrefers(_ candidate: Float, over best: Float, max isMax: Bool) -> Bool {
  isMax ? MaxOrder.prefers(candidate, over: best) : MinOrder.prefers(candidate, over: best)
}

/// Any window and padding: max (`isMax`) or min pooling of the planes `planes` of `input`
/// into `output`, and the winners' offsets into `argIndex` when given (the C kernel
/// `ccnn_extremum_pool`, eight neighbouring outputs at a time).
func extremumPlanesForward(
  _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ argIndex: UnsafeMutablePointer<Int32>?,
  planes: Range<Int>, geometry g: ConvGeometry, isMax: Bool
) {
  guard !planes.isEmpty else { return }
  var shape = ccnn_pool_geometry(
    height: g.inputHeight, width: g.inputWidth, out_height: g.outputHeight, out_width: g.outputWidth,
    kernel_height: g.kernelHeight, kernel_width: g.kernelWidth, stride_height: g.strideHeight,
    stride_width: g.strideWidth, pad_top: g.padTop, pad_left: g.padLeft)
  let first = planes.lowerBound
  ccnn_extremum_pool(
    input + first * g.inputPlaneSize, planes.count, &shape, isMax ? 1 : 0, output + first * g.outputPlaneSize,
    argIndex.map { $0 + first * g.outputPlaneSize })
}

/// The outputs `ow` whose window lies inside the plane horizontally:
/// `ow*SW - PL >= 0` and `ow*SW - PL + KW <= W`.
func interiorOutputColumns(_ g: ConvGeometry) -> Range<Int> {
  let low = Swift.min((g.padLeft + g.strideWidth - 1) / g.strideWidth, g.outputWidth)
  let span = g.inputWidth - g.kernelWidth + g.padLeft
  let high = span < 0 ? 0 : Swift.min(span / g.strideWidth + 1, g.outputWidth)
  return low..<Swift.max(low, high)
}

/// Calls `body(ow)` for groups of four outputs `ow..<ow+4` that together cover `interior`,
/// and returns the first output after the last one covered (the interior's end, or its start
/// when it holds fewer than four). When the count is not a multiple of four the last group
/// ends at the interior's end and overlaps the one before it: those outputs are computed
/// twice, the same way, so the edges alone are left to scalar code (1 of 16 outputs of a
/// 3×3 stride-2 pool over 32 columns, instead of 4).
@inline(__always)
func inGroupsOfFour(_ interior: Range<Int>, _ body: (_ ow: Int) -> Void) -> Int {
  guard interior.count >= 4 else { return interior.lowerBound }
  var ow = interior.lowerBound
  while ow + 4 <= interior.upperBound {
    body(ow)
    ow += 4
  }
  if ow < interior.upperBound { body(interior.upperBound - 4) }
  return interior.upperBound
}

/// `(p[0], p[stride], p[2*stride], p[3*stride])`: one window position of four neighbouring
/// outputs. Stride 2 loads eight floats and keeps the even ones when `eight` says that
/// `p[7]` is still inside the row (see `readsEight`), and gathers the four otherwise: the
/// eighth float of the plane's last group could lie past the end of the input.
@inline(__always)
func candidates(_ p: UnsafePointer<Float>, stride: Int, eight: Bool) -> SIMD4<Float> {
  switch stride {
  case 1: return UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
  case 2 where eight: return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self).evenHalf
  default: return SIMD4<Float>(p[0], p[stride], p[2 * stride], p[3 * stride])
  }
}

/// Whether every eight-float load of the group of four outputs whose windows start at
/// column `left` stays inside a row of `width` floats: the last window column read is
/// `left + KW − 1`, and its load reaches seven floats further.
@inline(__always)
func readsEight(left: Int, _ g: ConvGeometry) -> Bool { left + g.kernelWidth - 1 + 8 <= g.inputWidth }

/// 2x2 window, stride 2, no padding: the windows tile the plane, so each input position is
/// written once (no zeroing pass): the gradient where `index` points, zero elsewhere. Rows and
/// columns past the last window (odd H or W) get zero.
private func extremumPlaneBackward2x2(
  _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ index: UnsafePointer<Int32>,
  geometry g: ConvGeometry
) {
  let width = g.inputWidth
  let outputWidth = g.outputWidth
  let step = SIMD4<Int32>(0, 2, 4, 6)
  let zero = SIMD4<Float>()
  for oh in 0..<g.outputHeight {
    let top = dx + 2 * oh * width
    let bottom = top + width
    let grad = dy + oh * outputWidth
    let winners = index + oh * outputWidth
    let base = 2 * oh * width
    var ow = 0
    while ow + 4 <= outputWidth {
      let d = UnsafeRawPointer(grad + ow).loadUnaligned(as: SIMD4<Float>.self)
      let start = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: base + 2 * ow)) &+ step
      let offset = UnsafeRawPointer(winners + ow).loadUnaligned(as: SIMD4<Int32>.self) &- start
      let w = Int32(truncatingIfNeeded: width)
      let a = zero.replacing(with: d, where: offset .== 0)
      let b = zero.replacing(with: d, where: offset .== 1)
      let c = zero.replacing(with: d, where: offset .== w)
      let e = zero.replacing(with: d, where: offset .== w + 1)
      UnsafeMutableRawPointer(top + 2 * ow).storeBytes(of: interleave(a, b), as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(bottom + 2 * ow).storeBytes(of: interleave(c, e), as: SIMD8<Float>.self)
      ow += 4
    }
    while ow < outputWidth {
      let w = 2 * ow
      top[w] = 0
      top[w + 1] = 0
      bottom[w] = 0
      bottom[w + 1] = 0
      dx[Int(winners[ow])] = grad[ow]
      ow += 1
    }
    zeroTail2x2(top, bottom, geometry: g)
  }
  zeroBottom2x2(dx, geometry: g)
}

// MARK: - 2x2 helpers

/// `(a[0], b[0], a[1], b[1], ..., a[3], b[3])`.
@inline(__always)
func interleave(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD8<Float> {
  SIMD8<Float>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
}

/// Zeroes the last column of two rows when W is odd (it is in no 2x2 window).
@inline(__always)
func zeroTail2x2(_ top: UnsafeMutablePointer<Float>, _ bottom: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
  for w in (2 * g.outputWidth)..<g.inputWidth {
    top[w] = 0
    bottom[w] = 0
  }
}

/// Zeroes the last row of the plane when H is odd (it is in no 2x2 window).
@inline(__always)
func zeroBottom2x2(_ dx: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
  let covered = 2 * g.outputHeight
  if covered < g.inputHeight {
    fillZero(dx + covered * g.inputWidth, count: (g.inputHeight - covered) * g.inputWidth)
  }
}

// MARK: - Checks

/// Traps unless `g` is valid for pooling: a usable geometry, each padding smaller than the
/// window (so every window holds at least one input position), and planes small enough for
/// Int32 offsets.
func checkPoolingGeometry(_ g: ConvGeometry, caller: String) {
  precondition(g.validationError == nil, "\(caller): \(g.validationError ?? "")")
  precondition(
    g.padTop < g.kernelHeight && g.padBottom < g.kernelHeight && g.padLeft < g.kernelWidth
      && g.padRight < g.kernelWidth,
    "\(caller): padding (\(g.padTop), \(g.padBottom), \(g.padLeft), \(g.padRight)) must be smaller than "
      + "the \(g.kernelHeight)x\(g.kernelWidth) window")
  precondition(g.inputPlaneSize <= Int(Int32.max), "\(caller): plane \(g.inputHeight)x\(g.inputWidth) too large")
}
