// The blocked GEMM driver: the GotoBLAS/BLIS loop nest around the micro-kernel, and the
// split of C over threads. Block sizes (MC, KC, NC) and tiles (MR, NR) are in GEMMKernel.
//
//   for jc in columns, step NC            (B panel  KC × NC  → L3)
//     for pc in 0..<k, step KC:  pack B   (beta applies on the first pc only)
//       for ic in rows, step MC: pack A   (A block  MC × KC  → L2)
//         for jr in 0..<nc, step NR       (B micro-panel KC × NR, reused by every A strip)
//           for ir in 0..<mc, step MR     micro-kernel: C[MR × NR] = alpha·A·B + beta·C
//
// When the rows fit in one A block (m ≤ MC, typical of convolution), B is instead packed a
// few strips at a time just before use ("streamed"), since each strip is used only once.
//
// Threads: C is cut into one contiguous block per thread, by NR-column strips when there
// are enough and A is the smaller operand (each thread then packs just its own columns of
// B, and all of A), otherwise by MR-row tiles. Problems under ~2 MFLOP run on the calling
// thread.

/// `gemm` with a chosen micro-kernel: `C[m×n] = alpha · op(A)[m×k] · B[k×n] + beta · C`.
///
/// The public `gemm` calls this with `GEMMKernel.current`; tests call it with each
/// supported kernel to check them all against `gemmNaive`.
///
/// Each thread owns a disjoint block of C and its own packing buffers, so calls are
/// reentrant: any number may run at once (e.g. one per image, each with `threads: 1`).
/// - Precondition: `kernel.isSupported`.
@_spi(Testing)
public func gemm<B: GEMMRightOperand>(
  kernel: GEMMKernel, transposeA: Bool = false, m: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: B, beta: Float = 0,
  c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = ComputeThreads.count
) {
  precondition(kernel.isSupported, "GEMM kernel \(kernel) is not supported on this CPU")
  let driver = GEMMDriver(
    kernel: kernel, transposeA: transposeA, a: a, lda: lda, packedA: nil, k: b.rows, alpha: alpha, beta: beta,
    c: c, ldc: ldc)
  gemm(driver: driver, m: m, b: b, threads: threads)
}

/// `gemm` with A packed beforehand (`PackedLeftOperand`, e.g. a layer's filters kept across
/// inference calls): `C[m×n] = alpha · A[m×k] · B[k×n] + beta · C`, with `m = packedA.rows`
/// and `k = packedA.depth = b.rows`. The same bits as `gemm` with the unpacked A.
func gemm<B: GEMMRightOperand>(
  packedA: PackedLeftOperand, alpha: Float = 1, b: B, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
  threads: Int = ComputeThreads.count
) {
  precondition(
    packedA.depth == b.rows, "gemm: packed A has depth \(packedA.depth), B has \(b.rows) rows")
  let driver = GEMMDriver(
    kernel: packedA.kernel, transposeA: false, a: packedA.storage.base, lda: packedA.depth, packedA: packedA,
    k: b.rows, alpha: alpha, beta: beta, c: c, ldc: ldc)
  gemm(driver: driver, m: packedA.rows, b: b, threads: threads)
}

/// Runs `driver` over C (`m × b.columns`), split over threads.
private func gemm<B: GEMMRightOperand>(driver: GEMMDriver, m: Int, b: B, threads: Int) {
  let (kernel, k, n) = (driver.kernel, b.rows, b.columns)
  let (c, ldc, beta) = (driver.c, driver.ldc, driver.beta)
  precondition(m >= 0 && n >= 0 && k >= 0, "gemm expects m, n, k ≥ 0, got \(m), \(n), \(k)")
  if m == 0 || n == 0 { return }
  if k == 0 {
    scale(c, ldc: ldc, rows: 0..<m, columns: 0..<n, by: beta)
    return
  }

  // Split C into one block per thread. By column strips, each thread packs its own part of
  // B and all of A; by row tiles, its own part of A and all of B. So the columns are split
  // when there are enough of them and A is the smaller operand (m ≤ n), the rows when A is
  // the larger one and there are enough rows (conv backward's Wᵀ·dY, 2304 × 512 at C256,
  // or a 13×13 map's 384 filters over 169 positions).
  let nr = kernel.nr
  let mr = kernel.mr
  let strips = (n + nr - 1) / nr
  let rowTiles = (m + mr - 1) / mr
  let flops = 2 * m * n * k
  let workers = flops < 1 << 21 ? 1 : max(1, threads)
  let rowsPackLess = m > n && rowTiles >= 2 * workers
  if workers == 1 {
    driver.run(b, rows: 0..<m, columns: 0..<n)
  } else if !rowsPackLess && (strips >= 2 * workers || strips >= rowTiles) {
    parallelChunks(strips, threads: workers) { _, range in
      let columns = range.lowerBound * nr..<min(n, range.upperBound * nr)
      driver.run(b, rows: 0..<m, columns: columns)
    }
  } else {
    parallelChunks(rowTiles, threads: workers) { _, range in
      let rows = range.lowerBound * mr..<min(m, range.upperBound * mr)
      driver.run(b, rows: rows, columns: 0..<n)
    }
  }
}

/// `C[rows, columns] *= beta` (set to zero, without reading, when `beta == 0`).
func scale(
  _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>,
  by beta: Float
) {
  if beta == 1 { return }
  for i in rows {
    let row = c + i * ldc
    if beta == 0 {
      (row + columns.lowerBound).update(repeating: 0, count: columns.count)
    } else {
      for j in columns { row[j] *= beta }
    }
  }
}

/// The per-call state of one GEMM and the loop nest over one block of C.
struct GEMMDriver {
  let kernel: GEMMKernel
  let transposeA: Bool
  let a: UnsafePointer<Float>
  let lda: Int
  /// A packed beforehand, whose blocks are used in place of packing `a`.
  let packedA: PackedLeftOperand?
  let k: Int
  let alpha: Float
  let beta: Float
  let c: UnsafeMutablePointer<Float>
  let ldc: Int

  /// Computes `C[rows, columns]`, with packing buffers of its own (sized to the blocks:
  /// at most MC × KC floats for A and KC × NC for B).
  func run<B: GEMMRightOperand>(_ b: B, rows: Range<Int>, columns: Range<Int>) {
    if rows.isEmpty || columns.isEmpty { return }
    let mr = kernel.mr
    let nr = kernel.nr
    // Blocks of (nearly) equal size, so no loop ends with a sliver: k = 576 with KC = 384
    // runs as 2 × 288, not 384 + 192.
    let kcBlock = balancedBlock(k, limit: kernel.kc, step: 1)
    let mcBlock = balancedBlock(rows.count, limit: kernel.mc, step: mr)
    let ncBlock = balancedBlock(columns.count, limit: kernel.nc, step: nr)
    // With a single A block (few rows, as in convolution), each packed B strip is used
    // exactly once: pack a few strips at a time (about 96 KB, so they stay in L2) right
    // before use, instead of writing the whole KC × NC panel out to L3 and reading it back.
    // Several strips per `pack` call amortize the operand's per-call setup when kc is small.
    let streamB = rows.count <= mcBlock
    let streamColumns = min(ncBlock, nr * max(1, 24 * 1024 / (kcBlock * nr)))
    precondition(packedA == nil || packedA!.depthBlock == kcBlock, "packed A's depth blocks differ from the GEMM's")
    let sizeA = packedA == nil ? mcBlock * kcBlock : 0
    let sizeB = kcBlock * (streamB ? streamColumns : ncBlock)
    let bufferA = FloatBuffer(count: sizeA)
    let bufferB = FloatBuffer(count: sizeB)
    defer {
      bufferA.deallocate()
      bufferB.deallocate()
    }
    let packedB = bufferB.base

    if streamB {
      for pc in stride(from: 0, to: k, by: kcBlock) {
        let kc = min(kcBlock, k - pc)
        let betaBlock: Float = pc == 0 ? beta : 1
        let blockA = panelsOfA(rows: rows.lowerBound, count: rows.count, depth: pc, kc: kc, buffer: bufferA)
        for jr in stride(from: columns.lowerBound, to: columns.upperBound, by: streamColumns) {
          let n = min(streamColumns, columns.upperBound - jr)
          b.pack(into: packedB, k0: pc, kc: kc, j0: jr, nc: n, nr: nr)
          macroKernel(
            blockA, packedB, kc: kc, c: c + rows.lowerBound * ldc + jr, mc: rows.count, nc: n,
            beta: betaBlock)
        }
      }
      return
    }

    for jc in stride(from: columns.lowerBound, to: columns.upperBound, by: ncBlock) {
      let nc = min(ncBlock, columns.upperBound - jc)
      for pc in stride(from: 0, to: k, by: kcBlock) {
        let kc = min(kcBlock, k - pc)
        let betaBlock: Float = pc == 0 ? beta : 1
        b.pack(into: packedB, k0: pc, kc: kc, j0: jc, nc: nc, nr: nr)
        for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: mcBlock) {
          let mc = min(mcBlock, rows.upperBound - ic)
          let blockA = panelsOfA(rows: ic, count: mc, depth: pc, kc: kc, buffer: bufferA)
          macroKernel(
            blockA, packedB, kc: kc, c: c + ic * ldc + jc, mc: mc, nc: nc, beta: betaBlock)
        }
      }
    }
  }

  /// The packed block of A for rows `i0 ..< i0 + mc` (`i0` a multiple of MR) and depth
  /// `p0 ..< p0 + kc`: in `packedA` when A was packed beforehand, else packed into `buffer`.
  @inline(__always)
  private func panelsOfA(
    rows i0: Int, count mc: Int, depth p0: Int, kc: Int, buffer: FloatBuffer
  ) -> UnsafeMutablePointer<Float> {
    if let packedA { return UnsafeMutablePointer(mutating: packedA.block(rows: i0, depth: p0, kc: kc)) }
    let panel = buffer.base
    packA(a, lda: lda, transposed: transposeA, i0: i0, mc: mc, p0: p0, kc: kc, mr: kernel.mr, into: panel)
    return panel
  }

  /// `C[mc × nc] = alpha · Ap · Bp + beta · C` for one packed A block and B panel.
  /// Each B micro-panel (`kc × NR`) is reused by all the A strips of the block in turn,
  /// so it stays in L1/L2 while the A strips stream past it from L2.
  @inline(__always)
  private func macroKernel(
    _ packedA: UnsafeMutablePointer<Float>, _ packedB: UnsafeMutablePointer<Float>,
    kc: Int, c: UnsafeMutablePointer<Float>, mc: Int, nc: Int, beta: Float
  ) {
    let mr = kernel.mr
    let nr = kernel.nr
    let micro = kernel.microKernel
    for jr in stride(from: 0, to: nc, by: nr) {
      let panelB = UnsafePointer(packedB + jr * kc)
      let n = min(nr, nc - jr)
      var tileC = c + jr
      for ir in stride(from: 0, to: mc, by: mr) {
        micro(
          kc, UnsafePointer(packedA + ir * kc), panelB, tileC, ldc, min(mr, mc - ir), n,
          alpha, beta)
        tileC += mr * ldc
      }
    }
  }
}

/// The block size for splitting `extent` into the fewest blocks of at most `limit`
/// (a multiple of `step`), made as equal as possible and rounded up to a multiple of `step`.
func balancedBlock(_ extent: Int, limit: Int, step: Int) -> Int {
  let blocks = max(1, (extent + limit - 1) / limit)
  return min(limit, roundUp((extent + blocks - 1) / blocks, to: step))
}

/// The smallest multiple of `step` that is ≥ `value`.
@inline(__always)
func roundUp(_ value: Int, to step: Int) -> Int { (value + step - 1) / step * step }
