// What the Winograd transforms of winograd.c (F(2×2, 3×3)), winograd5x5.c (F(2×2, 5×5)) and
// winograd4x4.c (F(4×4, 3×3)) share: loading the rows a run of tile rows reads, where each
// tile goes, and the input transform of 6×6 tiles. They differ in the arithmetic on a tile,
// in `step`, the output tile's size m (tile row r starts at input row m·r, tile x at column
// m·x), and in how many more input rows than m a tile row reads (r − 1).
#ifndef CCNN_WINOGRAD_TILES_H
#define CCNN_WINOGRAD_TILES_H

#include "dispatch.h"

#define INLINE static inline __attribute__((always_inline))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define CHUNK 256

// The chunks: `chunk_rows` whole rows from r0 when a row has at most CHUNK tiles, else pieces
// of one row; tile (r0 + r, x0 + x) is the chunk's tile r·cols + x, and a chunk's tiles are
// consecutive in q.
#define FOR_CHUNKS(tile_rows, tiles)                                                          \
  const long rows_per_chunk = (tiles) <= CHUNK ? CHUNK / (tiles) : 1;                         \
  for (long r0 = 0; r0 < (tile_rows); r0 += rows_per_chunk)                                   \
    for (long x0 = 0, chunk_rows = MIN(rows_per_chunk, (tile_rows) - r0); x0 < (tiles); x0 += CHUNK)

// Filter (o, i)'s `taps` weights into g: `weight[o][i]`, or with `flipped`, the filter of the
// transposed convolution that gives dX, `weight[i][o]` reversed (weight is then
// `[inputs, outputs, r, r]`).
INLINE void read_filter(
  const float *restrict weight, long outputs, long inputs, long o, long i, int flipped, int taps, float *restrict g) {
  if (flipped) {
    const float *f = weight + (i * outputs + o) * taps;
    for (int tap = 0; tap < taps; tap++) g[tap] = f[taps - 1 - tap];
  } else {
    const float *f = weight + (o * inputs + i) * taps;
    for (int tap = 0; tap < taps; tap++) g[tap] = f[tap];
  }
}

// Rows top ..< top + count of a `height × width` plane into `rows` (`len` floats each), plane
// column x at x + pad_left; rows outside the plane are zero. The columns outside
// [pad_left, pad_left + width) are not written (the caller keeps them zero). A plain loop, as
// the rows are short (4 to 32 floats on ResNet's small maps): a call to memcpy per row cost
// more than the copy.
INLINE void load_rows(
  const float *restrict plane, long height, long width, long pad_left, long top, long count, float *restrict rows,
  long len) {
  for (long i = 0; i < count; i++) {
    float *restrict d = rows + i * len + pad_left;
    const long y = top + i;
    if (y >= 0 && y < height) {
      const float *restrict s = plane + y * width;
#pragma clang loop vectorize(enable)
      for (long x = 0; x < width; x++) d[x] = s[x];
    } else {
      for (long x = 0; x < width; x++) d[x] = 0;
    }
  }
}

// The transform of a run of tile rows once their rows are loaded: ccnn_winograd_input_rows'
// or ccnn_winograd5_input_rows' arguments, and the output-gradient one's.
typedef void (*input_rows_function)(const float *, long, long, long, float *, long, long, long, long);
typedef void (*gradient_rows_function)(const float *, long, long, long, float *, long);

// ccnn_winograd_input_planes (and the others, whose tile rows start `step` rows apart and
// read `extra_rows` = r − 1 more): per channel, load the rows of the run of tile rows, then
// transform them.
INLINE void input_planes(
  const float *planes, long plane_size, long channels, long height, long width, long pad_top, long pad_left, long ty0,
  long tile_rows, long step, long extra_rows, float *rows, long len, long tiles, float *out, long channel_step,
  long stride, long first, long nr, long strip, input_rows_function transform) {
  for (long c = 0; c < channels; c++) {
    load_rows(
      planes + c * plane_size, height, width, pad_left, step * ty0 - pad_top, step * tile_rows + extra_rows, rows, len);
    transform(rows, len, tile_rows, tiles, out + c * channel_step, stride, first, nr, strip);
  }
}

// ccnn_winograd_gradient_planes (and the others): per channel, load the dY rows of the run
// of tile rows (`step` a tile row), then transform them.
INLINE void gradient_planes(
  const float *planes, long plane_size, long channels, long height, long width, long ty0, long tile_rows, long step,
  float *rows, long len, long tiles, float *out, long channel_step, long stride, gradient_rows_function transform) {
  for (long c = 0; c < channels; c++) {
    load_rows(planes + c * plane_size, height, width, 0, step * ty0, step * tile_rows, rows, len);
    transform(rows, len, tile_rows, tiles, out + c * channel_step, stride);
  }
}

// Tile rows r = 0 ..< tile_rows start at input row step·r; tile x of row r (at column
// step·x) is the block's tile q = first + r·tiles + x, whose entries go to the GEMM's strips
// (`nr` > 0) or to place q (see ccnn_winograd_input_rows). `transform(row, len, run, out,
// stride)` transforms `run` tiles that stay in one strip.
INLINE void input_tile_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, long step, float *restrict out, long stride,
  long first, long nr, long strip, void (*transform)(const float *restrict, long, long, float *restrict, long)) {
  for (long r = 0; r < tile_rows; r++) {
    const float *restrict row = rows + step * r * len;
    long q = first + r * tiles;
    if (nr <= 0) {
      transform(row, len, tiles, out + q, stride);
      continue;
    }
    for (long x = 0; x < tiles;) {
      const long lane = q % nr;
      const long run = nr - lane < tiles - x ? nr - lane : tiles - x;
      transform(row + step * x, len, run, out + (q / nr) * strip + lane, stride);
      x += run;
      q += run;
    }
  }
}

// t = Bᵀ d for six values d: the input transform of 6×6 tiles, at the points 0, 1, −1, 2, −2
// and ∞ (F(2×2, 5×5) and F(4×4, 3×3); Bᵀ in winograd5x5.c).
INLINE void bt6(const float d[6], float t[6]) {
  t[0] = 4 * d[0] - 5 * d[2] + d[4];
  t[1] = (d[3] + d[4]) - 4 * (d[1] + d[2]);
  t[2] = (d[4] - d[3]) + 4 * (d[1] - d[2]);
  t[3] = (d[4] - d[2]) + 2 * (d[3] - d[1]);
  t[4] = (d[4] - d[2]) + 2 * (d[1] - d[3]);
  t[5] = 4 * d[1] - 5 * d[3] + d[5];
}

// V = Bᵀ d B for each 6×6 tile x, tiles `step` columns apart: d is rows[i·len + step·x + j]
// (i, j < 6); v[6i + j] goes to out[(6i + j)·stride + x].
INLINE void input_tiles6(
  const float *restrict rows, long len, long tiles, long step, float *restrict out, long stride) {
  for (long x = 0; x < tiles; x++) {
    const float *restrict d = rows + step * x;
    float t[6][6];
    for (int j = 0; j < 6; j++) {
      const float column[6] = {d[j], d[len + j], d[2 * len + j], d[3 * len + j], d[4 * len + j], d[5 * len + j]};
      float c[6];
      bt6(column, c);
      for (int i = 0; i < 6; i++) t[i][j] = c[i];
    }
    for (int i = 0; i < 6; i++) {
      float v[6];
      bt6(t[i], v);
      for (int j = 0; j < 6; j++) out[(6 * i + j) * stride + x] = v[j];
    }
  }
}

// The 2×2 dY tiles of a chunk, split into four arrays: tile (r0 + r, x0 + x) at r·cols + x.
INLINE void gather_gradient_tiles(
  const float *restrict rows, long len, long r0, long chunk_rows, long x0, long cols, float *restrict y00,
  float *restrict y01, float *restrict y10, float *restrict y11) {
  for (long r = 0; r < chunk_rows; r++) {
    const float *restrict top = rows + 2 * (r0 + r) * len + 2 * x0, *restrict bottom = top + len;
    for (long x = 0; x < cols; x++) {
      y00[r * cols + x] = top[2 * x];
      y01[r * cols + x] = top[2 * x + 1];
      y10[r * cols + x] = bottom[2 * x];
      y11[r * cols + x] = bottom[2 * x + 1];
    }
  }
}

// A chunk's 2×2 output tiles from four arrays into the map: tile x's outputs go to columns 2x
// and 2x + 1 of rows 2r and 2r + 1; tiles from `pairs` on (at most one, when the width is odd)
// have only their first column, and the last tile row only its first row when `height` is odd.
INLINE void write_output_tiles(
  const float *restrict y00, const float *restrict y01, const float *restrict y10, const float *restrict y11,
  long r0, long chunk_rows, long x0, long cols, long pairs, long height, float *restrict out, long width) {
  const long chunk_pairs = MIN(cols, pairs - x0 > 0 ? pairs - x0 : 0);
  for (long r = 0; r < chunk_rows; r++) {
    const long row = 2 * (r0 + r);
    for (int a = 0; a < 2 && row + a < height; a++) {
      float *restrict line = out + (row + a) * width + 2 * x0;
      const float *restrict left = (a ? y10 : y00) + r * cols, *restrict right = (a ? y11 : y01) + r * cols;
      for (long x = 0; x < chunk_pairs; x++) {
        line[2 * x] = left[x];
        line[2 * x + 1] = right[x];
      }
      if (chunk_pairs < cols) line[2 * chunk_pairs] = left[chunk_pairs];
    }
  }
}

#if defined(__x86_64__)
#include <immintrin.h>

// bt6 on vectors of tiles.
__attribute__((target("avx512f,avx512vl"), always_inline)) static inline void bt6_512(const __m512 d[6], __m512 t[6]) {
  const __m512 four = _mm512_set1_ps(4), five = _mm512_set1_ps(5), two = _mm512_set1_ps(2);
  t[0] = _mm512_add_ps(_mm512_fmsub_ps(four, d[0], _mm512_mul_ps(five, d[2])), d[4]);
  t[1] = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
  t[2] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
  t[3] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[3], d[1]), _mm512_sub_ps(d[4], d[2]));
  t[4] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[1], d[3]), _mm512_sub_ps(d[4], d[2]));
  t[5] = _mm512_add_ps(_mm512_fmsub_ps(four, d[1], _mm512_mul_ps(five, d[3])), d[5]);
}

// bt6 on vectors of eight tiles.
__attribute__((target("avx2,fma"), always_inline)) static inline void bt6_256(const __m256 d[6], __m256 t[6]) {
  const __m256 four = _mm256_set1_ps(4), five = _mm256_set1_ps(5), two = _mm256_set1_ps(2);
  t[0] = _mm256_add_ps(_mm256_fmsub_ps(four, d[0], _mm256_mul_ps(five, d[2])), d[4]);
  t[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
  t[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
  t[3] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[3], d[1]), _mm256_sub_ps(d[4], d[2]));
  t[4] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[1], d[3]), _mm256_sub_ps(d[4], d[2]));
  t[5] = _mm256_add_ps(_mm256_fmsub_ps(four, d[1], _mm256_mul_ps(five, d[3])), d[5]);
}

// The first `count` (1 to 8) lanes of w to `to`: one 256-bit store, or 128-, 64- and 32-bit
// ones (on Zen 3 a masked store, vmaskmovps, took 75 % of the input transform's time).
__attribute__((target("avx2,fma"), always_inline)) static inline void store_lanes_256(
  float *restrict to, __m256 w, long count) {
  if (count == 8) {
    _mm256_storeu_ps(to, w);
    return;
  }
  __m128 part = _mm256_castps256_ps128(w);
  if (count >= 4) {
    _mm_storeu_ps(to, part);
    part = _mm256_extractf128_ps(w, 1);
    to += 4;
    count -= 4;
  }
  if (count >= 2) {
    _mm_storel_pi((__m64 *)to, part);
    part = _mm_movehl_ps(part, part);
    to += 2;
    count -= 2;
  }
  if (count) _mm_store_ss(to, part);
}

// Stores lanes `lane0 ..< lane0 + count` of the `positions` vectors v (entry xi of eight tiles)
// as tiles q ..< q + count, placed as input_tile_rows places them: each run that stays in one
// strip is moved down to lane 0 by a permute and written by store_lanes_256.
__attribute__((target("avx2,fma"), always_inline)) static inline void store_tile_lanes_256(
  const __m256 *v, int positions, long lane0, long count, long q, float *restrict out, long stride, long nr,
  long strip) {
  for (long x = 0; x < count;) {
    const long lane = nr > 0 ? q % nr : 0;
    const long run = MIN(nr > 0 ? nr - lane : count, count - x);
    float *restrict destination = nr > 0 ? out + (q / nr) * strip + lane : out + q;
    const int shift = (int)(lane0 + x);
    const __m256i down = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(shift));
    for (int xi = 0; xi < positions; xi++) {
      store_lanes_256(destination + xi * stride, shift == 0 ? v[xi] : _mm256_permutevar8x32_ps(v[xi], down), run);
    }
    x += run;
    q += run;
  }
}

// Stores the `positions` entries of `count` tiles (lanes 0 ..< count of v[0 ..< positions],
// tile q in lane 0) as input_tile_rows places them: the lanes of a run that stays in one
// strip are moved down to lane 0 and stored with 128-, 256- or 512-bit masked stores (on Zen 4
// a 512-bit store is two).
__attribute__((target("avx512f,avx512vl"), always_inline)) static inline void store_tile_vectors(
  const __m512 *v, int positions, long count, long q, float *restrict out, long stride, long nr, long strip) {
  for (long x = 0; x < count;) {
    const long lane = nr > 0 ? q % nr : 0;
    const long run = MIN(nr > 0 ? nr - lane : count, count - x);
    float *restrict destination = nr > 0 ? out + (q / nr) * strip + lane : out + q;
    const __mmask16 store = (__mmask16)((1u << run) - 1), lanes = (__mmask16)(store << x);
    for (int xi = 0; xi < positions; xi++) {
      const __m512 w = x == 0 ? v[xi] : _mm512_maskz_compress_ps(lanes, v[xi]);
      float *to = destination + xi * stride;
      if (run <= 4) _mm_mask_storeu_ps(to, store, _mm512_castps512_ps128(w));
      else if (run <= 8) _mm256_mask_storeu_ps(to, store, _mm512_castps512_ps256(w));
      else _mm512_mask_storeu_ps(to, store, w);
    }
    x += run;
    q += run;
  }
}
#endif

#endif
