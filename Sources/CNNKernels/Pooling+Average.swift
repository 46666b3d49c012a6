// Average pooling over one plane, forward and backward (see Pooling.swift for the contract).

// MARK: - Average

/// Any window and padding: the sum of the window's positions inside the plane, row by row,
/// divided by KH*KW; four interior outputs at a time (the same sums, lane by lane; see
/// `inGroupsOfFour`).
func averagePlaneForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
  let height = g.inputHeight, width = g.inputWidth
  let outputWidth = g.outputWidth
  let stride = g.strideWidth
  let count = Float(g.kernelHeight * g.kernelWidth)
  let interior = interiorOutputColumns(g)
  for oh in 0..<g.outputHeight {
    let top = oh * g.strideHeight - g.padTop
    let rows = Swift.max(top, 0)..<Swift.min(top + g.kernelHeight, height)
    let out = y + oh * outputWidth

    /// One output by scalar sum.
    func scalar(_ ow: Int) {
      let left = ow * stride - g.padLeft
      let columns = Swift.max(left, 0)..<Swift.min(left + g.kernelWidth, width)
      var sum: Float = 0
      for h in rows {
        let row = x + h * width
        for w in columns { sum += row[w] }
      }
      out[ow] = sum / count
    }

    for ow in 0..<interior.lowerBound { scalar(ow) }
    let covered = inGroupsOfFour(interior) { ow in
      let left = ow * stride - g.padLeft
      let eight = readsEight(left: left, g)
      var sum = SIMD4<Float>()
      for h in rows {
        let row = x + h * width + left
        for kw in 0..<g.kernelWidth { sum += candidates(row + kw, stride: stride, eight: eight) }
      }
      UnsafeMutableRawPointer(out + ow).storeBytes(of: sum / count, as: SIMD4<Float>.self)
    }
    for ow in covered..<outputWidth { scalar(ow) }
  }
}

/// 2x2 window, stride 2, no padding, four outputs at a time: `(a + b + c + d) / 4` in scan order.
func averagePlaneForward2x2(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
  let width = g.inputWidth
  let outputWidth = g.outputWidth
  for oh in 0..<g.outputHeight {
    let top = x + 2 * oh * width
    let bottom = top + width
    let out = y + oh * outputWidth
    var ow = 0
    while ow + 4 <= outputWidth {
      let upper = UnsafeRawPointer(top + 2 * ow).loadUnaligned(as: SIMD8<Float>.self)
      let lower = UnsafeRawPointer(bottom + 2 * ow).loadUnaligned(as: SIMD8<Float>.self)
      let sum = upper.evenHalf + upper.oddHalf + lower.evenHalf + lower.oddHalf
      UnsafeMutableRawPointer(out + ow).storeBytes(of: sum / 4, as: SIMD4<Float>.self)
      ow += 4
    }
    while ow < outputWidth {
      let w = 2 * ow
      out[ow] = (top[w] + top[w + 1] + bottom[w] + bottom[w + 1]) / 4
      ow += 1
    }
  }
}

/// Average backward for any window: adds `dy / (KH*KW)` to every window position inside the
/// plane (`dx` must be zeroed first). Loops run output row, input row, kernel column
/// (descending), output column: for each input position that adds its windows' shares in
/// window order, as the naive version does, while the inner loop runs over a whole output
/// row (contiguous for stride 1).
func averagePlaneBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
  let height = g.inputHeight, width = g.inputWidth
  let outputWidth = g.outputWidth
  let stride = g.strideWidth
  let count = Float(g.kernelHeight * g.kernelWidth)
  for oh in 0..<g.outputHeight {
    let top = oh * g.strideHeight - g.padTop
    let grad = dy + oh * outputWidth
    for h in Swift.max(top, 0)..<Swift.min(top + g.kernelHeight, height) {
      let row = dx + h * width
      for kw in Swift.stride(from: g.kernelWidth - 1, through: 0, by: -1) {
        // Outputs whose column kw lands inside the row: 0 <= ow*SW + offset < W.
        let offset = kw - g.padLeft
        let low = offset >= 0 ? 0 : (stride - 1 - offset) / stride
        let high = Swift.min(outputWidth, (width - offset + stride - 1) / stride)
        if low >= high { continue }
        if stride == 1 {
          let target = row + offset
          for ow in low..<high { target[ow] += grad[ow] / count }
        } else {
          for ow in low..<high { row[ow * stride + offset] += grad[ow] / count }
        }
      }
    }
  }
}

/// 2x2 window, stride 2, no padding: each input position gets its window's `dy / 4`, written
/// once (no zeroing pass); rows and columns past the last window get zero.
func averagePlaneBackward2x2(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, geometry g: ConvGeometry) {
  let width = g.inputWidth
  let outputWidth = g.outputWidth
  for oh in 0..<g.outputHeight {
    let top = dx + 2 * oh * width
    let bottom = top + width
    let grad = dy + oh * outputWidth
    var ow = 0
    while ow + 4 <= outputWidth {
      let share = UnsafeRawPointer(grad + ow).loadUnaligned(as: SIMD4<Float>.self) / 4
      let pair = interleave(share, share)
      UnsafeMutableRawPointer(top + 2 * ow).storeBytes(of: pair, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(bottom + 2 * ow).storeBytes(of: pair, as: SIMD8<Float>.self)
      ow += 4
    }
    while ow < outputWidth {
      let w = 2 * ow
      let share = grad[ow] / 4
      top[w] = share
      top[w + 1] = share
      bottom[w] = share
      bottom[w + 1] = share
      ow += 1
    }
    zeroTail2x2(top, bottom, geometry: g)
  }
  zeroBottom2x2(dx, geometry: g)
}
