// CCNNKernels: the innermost GEMM loops (micro-kernels) in C with SIMD intrinsics.
//
// Packing, cache blocking and threading live in Swift (CNNKernels/GEMM*.swift); this target
// only holds the register-blocked tile update and the CPU feature check that picks it.
// No build flags are needed: each kernel carries its own `target(...)` attribute, and the
// x86 kernels are compiled only on x86_64 (on arm64 the Swift portable kernel is used).
#ifndef CCNNKERNELS_H
#define CCNNKERNELS_H

#include <stdint.h>

#pragma clang assume_nonnull begin

/// Instruction sets the GEMM micro-kernels can use, best last.
enum {
  CCNN_ISA_PORTABLE = 0,
  CCNN_ISA_AVX2 = 1,
  CCNN_ISA_AVX512 = 2,
};

/// The best micro-kernel ISA this CPU (and OS) supports: a `CCNN_ISA_*` value.
/// Checks CPUID via `__builtin_cpu_supports`; always `CCNN_ISA_PORTABLE` off x86_64.
int ccnn_best_isa(void);

/// `ccnn_best_isa()`, worked out on the first call and remembered.
int ccnn_isa(void);

/// Makes the C allocator keep large freed blocks for reuse instead of unmapping them
/// (glibc's `mallopt`; a no-op elsewhere). Returns 1 when glibc accepted every setting, 0
/// when it refused one or the C library is not glibc.
int ccnn_reuse_large_allocations(void);

/// One chunk of a parallel loop: `function(context, chunk)`.
typedef void (*ccnn_chunk_function)(void *_Nullable context, long chunk);

/// Runs `function(context, c)` for every chunk `c` in `0 ..< chunks`, on the calling thread and
/// the pool's worker threads (started on first use, up to `chunks − 1` of them, spinning and
/// then yielding for 2 ms after a job before they sleep), and returns 1 once all have returned.
/// Returns 0 without running anything when the pool is busy with another job (a nested or a
/// concurrent call), when `chunks < 2` or above the CPUs the process may use, or when no
/// thread could be started: run the chunks another way.
int ccnn_parallel_run(long chunks, ccnn_chunk_function function, void *_Nullable context);

#if defined(__x86_64__)
/// Micro-kernel contract (all kernels):
///
///     C[0..<m, 0..<n] = alpha · (Ap · Bp)[0..<m, 0..<n] + beta · C[0..<m, 0..<n]
///
/// - `a`: packed A micro-panel, `kc × MR`: `a[p·MR + i] = A[i, p]` (rows past m are zero).
/// - `b`: packed B micro-panel, `kc × NR`: `b[p·NR + j] = B[p, j]` (columns past n are zero).
/// - `c`: row-major tile, row stride `ldc`; only the `m × n` corner (m ≤ MR, n ≤ NR) is
///   touched. When `beta == 0`, C is written without being read.

/// AVX-512F micro-kernel, MR = 14, NR = 32: 28 zmm accumulators (two per row).
void ccnn_sgemm_avx512_14x32(
  long kc, const float *a, const float *b, float *c, long ldc,
  long m, long n, float alpha, float beta);

/// AVX2 + FMA micro-kernel, MR = 6, NR = 16: 12 ymm accumulators (two per row).
void ccnn_sgemm_avx2_6x16(
  long kc, const float *a, const float *b, float *c, long ldc,
  long m, long n, float alpha, float beta);

/// `out[i·4 + j] = Σ_p a[i·lda + p] · b[j·ldb + p]` for `i < m`, `j < n` (1 ≤ m, n ≤ 4),
/// `p < k`: AVX-512F + FMA.
void ccnn_sdot_block_avx512(long k, long m, const float *a, long lda, long n, const float *b, long ldb, float *out);

/// The same with AVX2 + FMA (n ≤ 2 when m > 2, to stay in the 16 ymm registers).
void ccnn_sdot_block_avx2(long k, long m, const float *a, long lda, long n, const float *b, long ldb, float *out);
#endif

/// Batch normalization over a block of `length` floats read from each of `batch` images at
/// `x[n·stride + j]` (whole channels: `length` = channels · H·W). For each j and n in order:
/// `sum[j] += x` and `squares[j] += x²`, or with `center`, `squares[j] += (x − center[j])²`
/// only.
void ccnn_bn_moments(
  const float *x, long batch, long stride, long length, const double *_Nullable center, double *sum, double *squares);

/// `y = x·scale[j] + shift[j]`, then `y < 0 ? 0 : y` when `relu`.
void ccnn_bn_normalize(
  const float *x, float *y, long batch, long stride, long length, const float *scale, const float *shift, int relu);

/// `sum[j] += g`, `sum_normalized[j] += g·x̂` with `x̂ = (x − mean[j])·inverse[j]` (in Float) and
/// `g = dy`, or `r > 0 ? dy : 0` with a fused ReLU's output `r`.
void ccnn_bn_gradient_sums(
  const float *x, const float *dy, const float *_Nullable r, long batch, long stride, long length, const float *mean,
  const float *inverse, double *sum, double *sum_normalized);

/// `dx = scale[j]·(m·g − sum[j] − (x − mean[j])·inverse[j]·sum_normalized[j])`, g as above.
void ccnn_bn_input_gradient(
  const float *x, const float *dy, const float *_Nullable r, float *dx, long batch, long stride, long length, float m,
  const float *scale, const float *sum, const float *mean, const float *inverse, const float *sum_normalized);

/// Winograd F(2×2, 3×3) filter transform `u = G g Gᵀ` for the filters of outputs `o0 ..< o1`
/// of `weight` `[outputs, inputs, 3, 3]` (with `flipped`, of the transposed convolution:
/// `g[o][i][t] = weight[i][o][8 − t]`, weight being `[inputs, outputs, 3, 3]`), packed as
/// GEMM A panels of `mr` rows: entry ξ of filter (o, i) at
/// `u[((ξ·P + o / mr)·inputs + i)·mr + o % mr]`, P = ⌈outputs / mr⌉.
void ccnn_winograd_filters(
  const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u);
/// `ccnn_winograd_filters` compiled for `isa` (as `ccnn_pack_runs_as_columns_isa`).
void ccnn_winograd_filters_isa(
  int isa, const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u);

/// The filter gradient `dg += Gᵀ du G` for filters `p0 ..< p1` of `pairs`: entry ξ of filter
/// p's `du` at `du[ξ·pairs + p]`, its 3×3 `dg` at `dg[p·9 ..< p·9 + 9]`.
void ccnn_winograd_filter_gradients(const float *du, long pairs, long p0, long p1, float *dg);

/// Winograd F(2×2, 3×3) input transform of `tile_rows` tile rows (`CNNKernels/Winograd.swift`):
/// tile x of tile row r takes the 4×4 input `d[i][j] = rows[(2r + i)·len + 2x + j]` to
/// `Bᵀ d B`, entry ξ = 4i + j stored at `out[ξ·stride + f(first + r·tiles + x)]`, where the
/// tile's place q maps to `f(q) = (q / nr)·strip + q % nr` (the GEMM's NR-wide B strips), or to
/// `f(q) = q` when `nr` is 0. The AVX-512 paths read up to 64 floats past the last of the
/// `2·tile_rows + 2` rows.
void ccnn_winograd_input_rows(
  const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip);

/// The output-gradient transform of `tile_rows` tile rows: each tile's 2×2
/// `dY[a][b] = rows[(2r + a)·len + 2x + b]` becomes `A dY Aᵀ`, entry ξ at
/// `out[ξ·stride + r·tiles + x]`.
void ccnn_winograd_gradient_rows(const float *rows, long len, long tile_rows, long tiles, float *out, long stride);

/// The output transform of `tile_rows` tile rows: tile (r, x)'s products `m[ξ·stride + r·tiles
/// + x]` become `Y = Aᵀ M A + bias`, written to `out[(2r + a)·width + 2x + b]` for the rows
/// 2r + a < `height` and the columns 2x + b < `width`.
void ccnn_winograd_output_rows(
  const float *m, long stride, long tile_rows, long tiles, long height, float bias, float *out, long width);

/// For each channel c < `channels` of one image, `planes + c·plane_size` (`height × width`):
/// loads the input rows of tile rows `ty0 ..< ty0 + tile_rows` (rows `2·ty0 − pad_top` on) into
/// `rows` (`len` floats each, column x at `x + pad_left`, zero outside the plane; the columns
/// outside the plane's are not written and must be zero, with the 64 floats of slack the
/// transform reads), then transforms them as `ccnn_winograd_input_rows` into
/// `out + c·channel_step`. One call per image run instead of two per channel.
void ccnn_winograd_input_planes(
  const float *planes, long plane_size, long channels, long height, long width, long pad_top, long pad_left, long ty0,
  long tile_rows, float *rows, long len, long tiles, float *out, long channel_step, long stride, long first, long nr,
  long strip);

/// For each output-gradient channel c < `channels` (`planes + c·plane_size`, `height × width`):
/// loads rows `2·ty0 ..< 2·(ty0 + tile_rows)` into `rows` (zero past the plane) and transforms
/// them as `ccnn_winograd_gradient_rows` into `out + c·channel_step`.
void ccnn_winograd_gradient_planes(
  const float *planes, long plane_size, long channels, long height, long width, long ty0, long tile_rows,
  float *rows, long len, long tiles, float *out, long channel_step, long stride);

/// The transforms of Winograd F(2×2, 5×5) (`winograd5x5.c`), with the same arguments and
/// layouts as the F(2×2, 3×3) ones above, for 6×6 tiles: 36 positions ξ = 6i + j, input tile
/// rows `rows[(2r + i)·len + 2x + j]` for i, j < 6, 5×5 filters (25 taps, flipped:
/// `weight[i][o][24 − t]`).
void ccnn_winograd5_filters(
  const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u);
void ccnn_winograd5_filter_gradients(const float *du, long pairs, long p0, long p1, float *dg);
void ccnn_winograd5_input_rows(
  const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip);
/// `ccnn_winograd5_input_rows` compiled for `isa` (as `ccnn_pack_runs_as_columns_isa`); the
/// AVX-512 one reads up to 64 floats past the last of the `2·tile_rows + 4` rows.
void ccnn_winograd5_input_rows_isa(
  int isa, const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr,
  long strip);
void ccnn_winograd5_gradient_rows(const float *rows, long len, long tile_rows, long tiles, float *out, long stride);
void ccnn_winograd5_input_planes(
  const float *planes, long plane_size, long channels, long height, long width, long pad_top, long pad_left, long ty0,
  long tile_rows, float *rows, long len, long tiles, float *out, long channel_step, long stride, long first, long nr,
  long strip);
void ccnn_winograd5_gradient_planes(
  const float *planes, long plane_size, long channels, long height, long width, long ty0, long tile_rows,
  float *rows, long len, long tiles, float *out, long channel_step, long stride);
void ccnn_winograd5_output_rows(
  const float *m, long stride, long tile_rows, long tiles, long height, float bias, float *out, long width);

/// The transforms of Winograd F(4×4, 3×3) (`winograd4x4.c`), with the same arguments and
/// layouts as the F(2×2, 3×3) ones, for 6×6 input tiles 4 apart and 4×4 output tiles: 36
/// positions ξ = 6i + j, input tile rows `rows[(4r + i)·len + 4x + j]` for i, j < 6 (the
/// planes' loads read rows `4·ty0 − pad_top` on, `4·tile_rows + 2` of them), dY tiles
/// `rows[(4r + a)·len + 4x + b]` for a, b < 4 (rows `4·ty0 ..< 4·(ty0 + tile_rows)`), outputs
/// to `out[(4r + a)·width + 4x + b]`.
void ccnn_winograd4_filters(
  const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u);
void ccnn_winograd4_filter_gradients(const float *du, long pairs, long p0, long p1, float *dg);
void ccnn_winograd4_input_rows(
  const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip);
void ccnn_winograd4_gradient_rows(const float *rows, long len, long tile_rows, long tiles, float *out, long stride);
void ccnn_winograd4_input_planes(
  const float *planes, long plane_size, long channels, long height, long width, long pad_top, long pad_left, long ty0,
  long tile_rows, float *rows, long len, long tiles, float *out, long channel_step, long stride, long first, long nr,
  long strip);
void ccnn_winograd4_gradient_planes(
  const float *planes, long plane_size, long channels, long height, long width, long ty0, long tile_rows,
  float *rows, long len, long tiles, float *out, long channel_step, long stride);
void ccnn_winograd4_output_rows(
  const float *m, long stride, long tile_rows, long tiles, long height, float bias, float *out, long width);
/// Whether the whole-image transforms below run on this CPU (they need AVX2 or AVX-512;
/// without them the per-channel ones above do the work).
int ccnn_winograd4_images_supported(void);
/// F(4×4, 3×3) on square `size` × `size` maps, `size` 4 or 8 (one or four tiles per image and
/// channel), 16 images to a vector with AVX-512, 8 with AVX2: the input transform of `count`
/// images `images[j]` (`[channels, size, size]` each, with `pad_top` rows and `pad_left`
/// columns of zeros before the map), tile (ty, tx) of image j being the block's tile q = first + (ty·T + tx)·count + j
/// (T = size / 4), entry ξ of channel c at `out[c·channel_step + ξ·stride + f(q)]`, f as in
/// `ccnn_winograd_input_rows`. Aborts for other sizes or without AVX2.
void ccnn_winograd4_input_images(
  const float *_Nonnull const *_Nonnull images, long count, long size, long channels, long pad_top, long pad_left,
  float *out, long channel_step, long stride, long first, long nr, long strip);
/// The output-gradient transform `A dY Aᵀ` of `count` images' `size` × `size` dY maps
/// (`[channels, size, size]` each), tile (ty, tx) of channel k of image j at
/// `out[k·channel_step + ξ·stride + first + (ty·T + tx)·count + j]`.
void ccnn_winograd4_gradient_images(
  const float *_Nonnull const *_Nonnull images, long count, long size, long channels, float *out, long channel_step,
  long stride, long first);
/// The output transform `Y = Aᵀ M A + bias` of `rows` channels of `count` images: channel r's
/// products of tile (ty, tx) of image j at `m[ξ·stride + r·ldm + (ty·T + tx)·count + j]`, its
/// `size` × `size` map to `out + j·image_stride + r·size²`, plus `bias[r]` (none when `bias`
/// is NULL).
void ccnn_winograd4_output_images(
  const float *m, long stride, long ldm, long rows, long count, long size, const float *_Nullable bias, float *out,
  long image_stride);
/// The three above for the vector width of `isa` (`CCNN_ISA_AVX2` or `CCNN_ISA_AVX512`, capped
/// at `ccnn_isa()`; abort below AVX2), so that tests can check both.
void ccnn_winograd4_input_images_isa(
  int isa, const float *_Nonnull const *_Nonnull images, long count, long size, long channels, long pad_top,
  long pad_left, float *out, long channel_step, long stride, long first, long nr, long strip);
void ccnn_winograd4_gradient_images_isa(
  int isa, const float *_Nonnull const *_Nonnull images, long count, long size, long channels, float *out,
  long channel_step, long stride, long first);
void ccnn_winograd4_output_images_isa(
  int isa, const float *m, long stride, long ldm, long rows, long count, long size, const float *_Nullable bias,
  float *out, long image_stride);

/// Packs `runs` contiguous runs of `length` floats, `run_stride` apart in `source`, as the
/// first `runs` columns of a `length × width` strip, zeros in the columns after them:
/// `strip[p·width + i] = source[i·run_stride + p]` (`runs ≤ width`). The GEMM packing of a
/// row-major A into MR-wide strips and of a transposed B into NR-wide ones.
void ccnn_pack_runs_as_columns(const float *source, long run_stride, long runs, long length, float *strip, long width);

/// Packs `kc` rows × `width` columns gathered from `source` into one `kc × nr` strip, zeros in
/// the columns after them: `strip[r·nr + t] = source[bases[t] + positions[r]]` (`width ≤ nr`).
/// Rows whose positions are consecutive (eight or four at a time) are copied as vectors and
/// transposed in registers: the im2col matrix of one image, packed for a weight gradient.
void ccnn_pack_gathered_columns(
  const float *source, const long *bases, long width, const long *positions, long kc, float *strip, long nr);

/// `ccnn_pack_gathered_columns` compiled for `isa` (as `ccnn_pack_runs_as_columns_isa`).
void ccnn_pack_gathered_columns_isa(
  int isa, const float *source, const long *bases, long width, const long *positions, long kc, float *strip, long nr);

/// `ccnn_pack_runs_as_columns` compiled for `isa` (a `CCNN_ISA_*` value; one the CPU does not
/// run falls back to `ccnn_isa()`), so that tests can check every variant.
void ccnn_pack_runs_as_columns_isa(
  int isa, const float *source, long run_stride, long runs, long length, float *strip, long width);

/// The shape of a pooling call: each plane is `height × width` in, `out_height × out_width`
/// out; output (oh, ow)'s window covers rows `oh·stride_height − pad_top + 0 ..< kernel_height`
/// and columns `ow·stride_width − pad_left + 0 ..< kernel_width`, those inside the plane.
typedef struct {
  long height, width, out_height, out_width;
  long kernel_height, kernel_width, stride_height, stride_width, pad_top, pad_left;
} ccnn_pool_geometry;

/// Max (`is_max` 1) or min (0) pooling of `planes` consecutive planes of `x` into `y`: each
/// output is the best of its window's positions inside the plane, scanned row by row, the
/// first one winning ties and the first NaN winning outright. With `index`, each winner's
/// offset `h·width + w` in its plane goes to the output's place there.
void ccnn_extremum_pool(
  const float *x, long planes, const ccnn_pool_geometry *g, int is_max, float *y, int32_t *_Nullable index);

/// `ccnn_extremum_pool` compiled for `isa` (as `ccnn_pack_runs_as_columns_isa`).
void ccnn_extremum_pool_isa(
  int isa, const float *x, long planes, const ccnn_pool_geometry *g, int is_max, float *y, int32_t *_Nullable index);

/// Whether `ccnn_conv_direct` runs on this CPU (it needs AVX2).
int ccnn_conv_direct_supported(void);
/// Direct convolution with stride 1 of one zero-padded image `src` (`channels` planes
/// `channel_stride` floats apart, rows `row_stride` apart) with `outputs` filters `weight`
/// (`[outputs, channels, kernel_h, kernel_w]`), output rows `row0 ..< row1` of
/// `out` (`[outputs, out_height, out_width]`):
/// `out[k, oh, ow] = (Σ_(c, i, j) weight[k, c, i, j] · src[c·channel_stride + (oh + i)·row_stride
/// + ow + j]) + bias[k]`, summed in that order from zero with fused multiply-adds, the bias
/// (none when NULL) added last: the bits of im2col + GEMM. Needs `out_width` ≥ 8; aborts
/// without AVX2.
void ccnn_conv_direct(
  const float *src, long channels, long channel_stride, long row_stride, const float *weight, long outputs,
  long kernel_h, long kernel_w, const float *_Nullable bias, float *out, long out_height, long out_width, long row0,
  long row1);

#pragma clang assume_nonnull end

#endif
