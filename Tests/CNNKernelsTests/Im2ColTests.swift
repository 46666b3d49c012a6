import Testing

@testable import CNNKernels

private typealias S = ConvTestSupport

/// Geometries for the im2col checks: padding (asymmetric too), strides, non-square shapes.
private let im2colGeometries: [ConvGeometry] = [
  S.geometry(n: 1, c: 1, h: 3, w: 3, kh: 2, kw: 2),
  S.geometry(n: 2, c: 3, h: 7, w: 6, kh: 3, kw: 3, pad: (1, 1, 1, 1)),
  S.geometry(n: 2, c: 2, h: 9, w: 11, kh: 3, kw: 5, sh: 2, sw: 3, pad: (1, 2, 0, 3)),
  S.geometry(n: 1, c: 2, h: 13, w: 8, kh: 4, kw: 2, sh: 4, sw: 1, pad: (3, 0, 1, 1)),
  S.geometry(n: 3, c: 1, h: 5, w: 40, kh: 1, kw: 3, sh: 1, sw: 1, pad: (0, 0, 2, 2)),
  S.geometry(n: 1, c: 3, h: 16, w: 16, kh: 11, kw: 11, sh: 4, sw: 4),
]

@Suite struct Im2ColTests {
  @Test func handComputedSingleChannel() {
    // [[1,2,3],[4,5,6],[7,8,9]], 2x2 windows, stride 1: four rows of four.
    let g = S.geometry(n: 1, c: 1, h: 3, w: 3, kh: 2, kw: 2)
    let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    var columns = [Float](repeating: .nan, count: 16)
    im2col(input: x, columns: &columns, geometry: g)
    #expect(
      columns == [
        1, 2, 4, 5,
        2, 3, 5, 6,
        4, 5, 7, 8,
        5, 6, 8, 9,
      ])
  }

  @Test func handComputedTwoChannelsWithPadding() {
    // Channels [[1,2],[3,4]] and [[5,6],[7,8]], 2x2 windows, stride 2, padding 1:
    // OH = OW = (2 + 2 - 2) / 2 + 1 = 2; each window holds one real value per channel.
    let g = S.geometry(n: 1, c: 2, h: 2, w: 2, kh: 2, kw: 2, sh: 2, sw: 2, pad: (1, 1, 1, 1))
    #expect(g.outputHeight == 2 && g.outputWidth == 2)
    let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
    var columns = [Float](repeating: .nan, count: 4 * 8)
    im2col(input: x, columns: &columns, geometry: g)
    #expect(
      columns == [
        0, 0, 0, 1, 0, 0, 0, 5,  // (oh, ow) = (0, 0)
        0, 0, 2, 0, 0, 0, 6, 0,  // (0, 1)
        0, 3, 0, 0, 0, 7, 0, 0,  // (1, 0)
        4, 0, 0, 0, 8, 0, 0, 0,  // (1, 1)
      ])
    // col2im adds every window value back to its position: each value appears once here.
    var back = [Float](repeating: .nan, count: 8)
    col2im(columns: columns, input: &back, geometry: g)
    #expect(back == x)
  }

  @Test func col2imAddsOverlappingWindows() {
    // 3x3 input, 2x2 windows, stride 1: the centre is in all four windows, edges in two.
    let g = S.geometry(n: 1, c: 1, h: 3, w: 3, kh: 2, kw: 2)
    let ones = [Float](repeating: 1, count: 16)
    var x = [Float](repeating: .nan, count: 9)
    col2im(columns: ones, input: &x, geometry: g)
    #expect(x == [1, 2, 1, 2, 4, 2, 1, 2, 1])
  }

  @Test(arguments: im2colGeometries)
  func col2imIsTheAdjointOfIm2col(_ g: ConvGeometry) {
    // <im2col(x), y> = <x, col2im(y)> for random x and y.
    var rng = S.Generator(seed: S.seed(g.description))
    let inputCount = g.batch * g.inputChannels * g.inputPlaneSize
    let columnCount = g.batch * g.outputPlaneSize * g.windowSize
    let x = S.random(inputCount, using: &rng)
    let y = S.random(columnCount, using: &rng)
    for threads in [1, 2] {
      var columns = [Float](repeating: .nan, count: columnCount)
      im2col(input: x, columns: &columns, geometry: g, threads: threads)
      var folded = [Float](repeating: .nan, count: inputCount)
      col2im(columns: y, input: &folded, geometry: g, threads: threads)
      var left = 0.0, right = 0.0, scale = 0.0
      for i in 0..<columnCount {
        left += Double(columns[i]) * Double(y[i])
        scale += abs(Double(columns[i]) * Double(y[i]))
      }
      for i in 0..<inputCount { right += Double(x[i]) * Double(folded[i]) }
      // Tolerance: the folded sums are Float32; relative to the sum of |terms|.
      #expect(abs(left - right) <= 1e-5 * max(1, scale), "threads \(threads)")
    }
  }

  @Test(arguments: im2colGeometries)
  func operandsPackTheIm2colMatrix(_ g: ConvGeometry) {
    // Pack B = im2col(image)^T and B^T in blocks of several shapes; compare with im2col, exactly.
    var rng = S.Generator(seed: S.seed(g.description) &+ 1)
    let imageSize = g.inputChannels * g.inputPlaneSize
    let x = S.random(g.batch * imageSize, using: &rng)
    var columns = [Float](repeating: .nan, count: g.batch * g.outputPlaneSize * g.windowSize)
    im2col(input: x, columns: &columns, geometry: g)
    let rows = g.windowSize, cols = g.outputPlaneSize
    for n in 0..<g.batch {
      x.withUnsafeBufferPointer { xp in
        guard let base = xp.baseAddress else { return }
        let workspaceCount = max(1, Im2ColOperand.workspaceCount(for: g))
        let workspace = UnsafeMutablePointer<Float>.allocate(capacity: workspaceCount)
        workspace.initialize(repeating: .nan, count: workspaceCount)
        defer { workspace.deallocate() }
        let operand = Im2ColOperand(image: base + n * imageSize, geometry: g, workspace: workspace)
        #expect(operand.rows == rows && operand.columns == cols)
        // B[r, j] = columns[(n, j), r].
        func expected(_ r: Int, _ j: Int) -> Float { columns[(n * cols + j) * rows + r] }
        for nr in [32, 16, 5] {
          for (k0, kc, j0, nc) in [
            (0, rows, 0, cols), (1, max(1, rows - 2), 3, max(1, cols - 5)), (rows / 2, rows - rows / 2, cols / 3, cols - cols / 3),
          ] where k0 + kc <= rows && j0 + nc <= cols {
            let strips = (nc + nr - 1) / nr
            var panel = [Float](repeating: .nan, count: strips * kc * nr)
            panel.withUnsafeMutableBufferPointer { p in
              guard let pb = p.baseAddress else { return }
              operand.pack(into: pb, k0: k0, kc: kc, j0: j0, nc: nc, nr: nr)
            }
            var mismatches = 0
            for s in 0..<strips {
              for r in 0..<kc {
                for t in 0..<nr {
                  let j = s * nr + t
                  let want: Float = j < nc ? expected(k0 + r, j0 + j) : 0
                  if panel[(s * kc + r) * nr + t] != want { mismatches += 1 }
                }
              }
            }
            #expect(mismatches == 0, "n \(n) nr \(nr) block (\(k0), \(kc), \(j0), \(nc))")
          }
        }
        // The transposed operand packs B^T = the seeds' im2col block of this image.
        let transposed = Im2ColTransposedOperand(operand: operand)
        #expect(transposed.rows == cols && transposed.columns == rows)
        for nr in [32, 16, 5] {
          for (k0, kc, j0, nc) in [
            (0, cols, 0, rows), (3, max(1, cols - 5), 1, max(1, rows - 2)), (cols / 3, cols - cols / 3, rows / 2, rows - rows / 2),
          ] where k0 + kc <= cols && j0 + nc <= rows {
            let strips = (nc + nr - 1) / nr
            var panel = [Float](repeating: .nan, count: strips * kc * nr)
            panel.withUnsafeMutableBufferPointer { p in
              guard let pb = p.baseAddress else { return }
              transposed.pack(into: pb, k0: k0, kc: kc, j0: j0, nc: nc, nr: nr)
            }
            var mismatches = 0
            for s in 0..<strips {
              for r in 0..<kc {
                for t in 0..<nr {
                  let j = s * nr + t
                  let want: Float = j < nc ? expected(j0 + j, k0 + r) : 0
                  if panel[(s * kc + r) * nr + t] != want { mismatches += 1 }
                }
              }
            }
            #expect(mismatches == 0, "transposed, n \(n) nr \(nr) block (\(k0), \(kc), \(j0), \(nc))")
          }
        }
      }
    }
  }

  @Test(arguments: im2colGeometries)
  func foldWindowsMatchesCol2im(_ g: ConvGeometry) {
    // Folding B^T (one image, by output-row chunks) equals col2im of the seeds' matrix.
    var rng = S.Generator(seed: S.seed(g.description) &+ 2)
    var one = g
    one.batch = 1
    let rows = g.windowSize, cols = g.outputPlaneSize
    let y = S.random(cols * rows, using: &rng)
    var expected = [Float](repeating: .nan, count: g.inputChannels * g.inputPlaneSize)
    col2im(columns: y, input: &expected, geometry: one)
    // B^T layout: yT[r, j] = y[j, r].
    var yT = [Float](repeating: 0, count: rows * cols)
    for j in 0..<cols { for r in 0..<rows { yT[r * cols + j] = y[j * rows + r] } }
    // Fold into the operand's source layout by chunks of two output rows, then gather.
    let layout = Im2ColLayout(one)
    let sourceCount = g.inputChannels * layout.channelStride
    var source = [Float](repeating: 0, count: sourceCount)
    let perChannel = g.kernelHeight * g.kernelWidth
    source.withUnsafeMutableBufferPointer { sp in
      guard let target = sp.baseAddress else { return }
      for start in stride(from: 0, to: g.outputHeight, by: 2) {
        let outputRows = start..<min(g.outputHeight, start + 2)
        let width = outputRows.count * g.outputWidth
        var chunk = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows {
          for jj in 0..<width { chunk[r * width + jj] = yT[r * cols + start * g.outputWidth + jj] }
        }
        for c in 0..<g.inputChannels {
          chunk.withUnsafeBufferPointer { cp in
            guard let cb = cp.baseAddress else { return }
            foldWindows(
              columns: cb + c * perChannel * width, leadingDimension: width, channels: c..<(c + 1),
              outputRows: outputRows, layout: layout, into: target)
          }
        }
      }
    }
    var folded = [Float](repeating: .nan, count: expected.count)
    if layout.readsInPlace {
      folded = source
    } else {
      layout.gather(source, into: &folded, channels: 0..<g.inputChannels)
    }
    // Tolerance: the same values summed in a different order.
    #expect(S.relativeError(folded, expected) < 1e-6)
  }
}
