// The portable GEMM micro-kernel: plain Swift SIMD, for CPUs without AVX2 (arm64 included).

/// Portable micro-kernel, MR = 6, NR = 16: six `SIMD16<Float>` accumulators, one per row.
///
/// Same contract as the C kernels (see `GEMMMicroKernel`):
/// `C[m×n] = alpha · Ap · Bp + beta · C`, with `Ap[p·6 + i]` and `Bp[p·16 + j]`.
/// On arm64 the accumulators take 24 of the 32 NEON registers.
///
/// Uses `a * b + c` rather than `addingProduct`, which compiles to per-lane `fmaf` calls.
func portableMicroKernel(
  _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
  _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ m: Int, _ n: Int,
  _ alpha: Float, _ beta: Float
) {
  typealias V = SIMD16<Float>
  var c0 = V()
  var c1 = V()
  var c2 = V()
  var c3 = V()
  var c4 = V()
  var c5 = V()
  let rawB = UnsafeRawPointer(b)
  var pa = a
  for p in 0..<kc {
    let bv = rawB.loadUnaligned(fromByteOffset: p * 64, as: V.self)
    c0 = V(repeating: pa[0]) * bv + c0
    c1 = V(repeating: pa[1]) * bv + c1
    c2 = V(repeating: pa[2]) * bv + c2
    c3 = V(repeating: pa[3]) * bv + c3
    c4 = V(repeating: pa[4]) * bv + c4
    c5 = V(repeating: pa[5]) * bv + c5
    pa += 6
  }
  let rows = (c0, c1, c2, c3, c4, c5)
  withUnsafeBytes(of: rows) { tile in
    let t = tile.assumingMemoryBound(to: Float.self)
    for i in 0..<m {
      let ci = c + i * ldc
      if beta == 0 {
        for j in 0..<n { ci[j] = alpha * t[i * 16 + j] }
      } else {
        for j in 0..<n { ci[j] = alpha * t[i * 16 + j] + beta * ci[j] }
      }
    }
  }
}
