// Max and min pooling over planes too narrow for the row-vector path (fewer than four
// interior output columns: GoogLeNet's 3×3 stride-1 pools over 4×4, 2×2 and 1×1 maps on
// CIFAR-sized input). Plane by plane, every output there is an edge case and runs scalar
// code whose comparisons the branch predictor cannot learn. Here the windows are worked out
// once for the geometry, and four planes are pooled at a time, one per vector lane:
//
//   taps(o)     = the in-plane offsets h·W + w of output o's window inside the plane, row-major
//   y[p+l, o]   = the first preferred of x[p+l, t] over t in taps(o), lane l = 0…3
//   index[p+l, o] = that t
//
// The same values are compared in the same order as in `extremumPlanesForward`, so the
// outputs and winners are identical; the planes left over (fewer than four) run there.

/// Each output position's window taps inside the plane, flattened: the taps of output `o`
/// are `offsets[starts[o] ..< starts[o + 1]]`, in scan order.
struct WindowTaps {
  var offsets: [Int] = []
  var starts: [Int] = [0]

  init(_ g: ConvGeometry) {
    for oh in 0..<g.outputHeight {
      let top = oh * g.strideHeight - g.padTop
      for ow in 0..<g.outputWidth {
        let left = ow * g.strideWidth - g.padLeft
        for h in max(top, 0)..<min(top + g.kernelHeight, g.inputHeight) {
          for w in max(left, 0)..<min(left + g.kernelWidth, g.inputWidth) {
            offsets.append(h * g.inputWidth + w)
          }
        }
        starts.append(offsets.count)
      }
    }
  }
}

/// Whether the planes are too narrow for the row-vector path (see above).
func poolsAsSmallPlanes(_ g: ConvGeometry) -> Bool { interiorOutputColumns(g).count < 4 }

/// Pools the planes `planes` of `input` into `output` (and `argIndex`), four at a time.
func extremumSmallPlanesForward<Order: PoolingOrder>(
  _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ argIndex: UnsafeMutablePointer<Int32>?,
  planes: Range<Int>, taps: WindowTaps, geometry g: ConvGeometry, order: Order.Type
) {
  let inputPlane = g.inputPlaneSize, outputPlane = g.outputPlaneSize
  let lanes = SIMD4<Int>(0, 1, 2, 3) &* inputPlane
  var plane = planes.lowerBound
  taps.offsets.withUnsafeBufferPointer { offsets in
    taps.starts.withUnsafeBufferPointer { starts in
      while plane + 4 <= planes.upperBound {
        let x = input + plane * inputPlane
        @inline(__always) func gather(_ offset: Int) -> SIMD4<Float> {
          let at = lanes &+ offset
          return SIMD4(x[at[0]], x[at[1]], x[at[2]], x[at[3]])
        }
        for o in 0..<outputPlane {
          let first = offsets[starts[o]]
          var best = gather(first)
          var winner = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: first))
          for t in (starts[o] + 1)..<starts[o + 1] {
            let offset = offsets[t]
            let value = gather(offset)
            let wins = Order.prefers(value, over: best)
            best.replace(with: value, where: wins)
            winner.replace(with: SIMD4(repeating: Int32(truncatingIfNeeded: offset)), where: wins)
          }
          for lane in 0..<4 {
            output[(plane + lane) * outputPlane + o] = best[lane]
            argIndex?[(plane + lane) * outputPlane + o] = winner[lane]
          }
        }
        plane += 4
      }
    }
  }
  extremumPlanesForward(input, output, argIndex, planes: plane..<planes.upperBound, geometry: g, isMax: Order.isMax)
}
