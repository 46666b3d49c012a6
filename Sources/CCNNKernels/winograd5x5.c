// The tile transforms of Winograd F(2×2, 5×5) (see CNNKernels/Winograd.swift for the
// algorithm): 6×6 input tiles for 2×2 output tiles, at the points 0, 1, −1, 2, −2 and ∞.
//
//        ⎡4   0  −5   0  1  0⎤        ⎡ 1/4     0     0     0     0 ⎤
//        ⎢0  −4  −4   1  1  0⎥        ⎢−1/6  −1/6  −1/6  −1/6  −1/6 ⎥
//   Bᵀ = ⎢0   4  −4  −1  1  0⎥    G = ⎢−1/6   1/6  −1/6   1/6  −1/6 ⎥    Aᵀ = ⎡1  1   1  1   1  0⎤
//        ⎢0  −2  −1   2  1  0⎥        ⎢1/24  1/12   1/6   1/3   2/3 ⎥         ⎣0  1  −1  2  −2  1⎦
//        ⎢0   2  −1  −2  1  0⎥        ⎢1/24 −1/12   1/6  −1/3   2/3 ⎥
//        ⎣0   4   0  −5  0  1⎦        ⎣  0     0     0     0     1  ⎦
//
// Each 2-D transform is the 1-D one down the columns, then along the rows. Plain loops over
// tiles, which clang vectorizes, compiled for AVX-512, AVX2 and the baseline (dispatch.h).
#include "winograd_tiles.h"

// (A y)[k] for the two values y of an output-tile column (A is Aᵀ's transpose, 6 × 2).
INLINE float a6(int k, float y0, float y1) {
  switch (k) {
  case 0: return y0;
  case 1: return y0 + y1;
  case 2: return y0 - y1;
  case 3: return y0 + 2 * y1;
  case 4: return y0 - 2 * y1;
  default: return y1;
  }
}

// (s, t) = Aᵀ m for six values m.
INLINE void at6(const float m[6], float *s, float *t) {
  *s = m[0] + m[1] + m[2] + m[3] + m[4];
  *t = (m[1] - m[2]) + 2 * (m[3] - m[4]) + m[5];
}

// u = G g for five values g.
INLINE void g6(const float g[5], float u[6]) {
  const float even = g[0] + g[2] + g[4], odd = g[1] + g[3];
  const float even4 = g[0] + 4 * g[2] + 16 * g[4], odd4 = 2 * g[1] + 8 * g[3];
  u[0] = g[0] / 4;
  u[1] = -(even + odd) / 6;
  u[2] = -(even - odd) / 6;
  u[3] = (even4 + odd4) / 24;
  u[4] = (even4 - odd4) / 24;
  u[5] = g[4];
}

// g = Gᵀ d for six values d.
INLINE void gt6(const float d[6], float g[5]) {
  const float s12 = d[1] + d[2], m12 = d[2] - d[1], s34 = d[3] + d[4], m34 = d[3] - d[4];
  g[0] = d[0] / 4 - s12 / 6 + s34 / 24;
  g[1] = m12 / 6 + m34 / 12;
  g[2] = (s34 - s12) / 6;
  g[3] = m12 / 6 + m34 / 3;
  g[4] = 2 * s34 / 3 - s12 / 6 + d[5];
}

// V = Bᵀ d B for each tile x: d is rows[i·len + 2x + j] (i, j < 6).
INLINE void input_tiles(const float *restrict rows, long len, long tiles, float *restrict out, long stride) {
  input_tiles6(rows, len, tiles, 2, out, stride);
}

// The tiles of every tile row, placed by input_tile_rows.
INLINE void input_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride, long first,
  long nr, long strip) {
  input_tile_rows(rows, len, tile_rows, tiles, 2, out, stride, first, nr, strip, input_tiles);
}

// A dY Aᵀ for each 2×2 tile of dY, the tiles of several rows in one loop (winograd_tiles.h).
INLINE void gradient_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride) {
  float y00[CHUNK], y01[CHUNK], y10[CHUNK], y11[CHUNK];
  FOR_CHUNKS(tile_rows, tiles) {
    const long cols = MIN(CHUNK, tiles - x0);
    gather_gradient_tiles(rows, len, r0, chunk_rows, x0, cols, y00, y01, y10, y11);
    float *restrict o = out + r0 * tiles + x0;
    const long count = chunk_rows * cols;
    // Entry (i, j) = (A (A[i]·(y00, y10), A[i]·(y01, y11)))[j]: one loop per entry, which clang
    // vectorizes (one loop storing all 36 did not).
#pragma clang loop unroll(full)
    for (int i = 0; i < 6; i++) {
#pragma clang loop unroll(full)
      for (int j = 0; j < 6; j++) {
        float *restrict entry = o + (6 * i + j) * stride;
        for (long q = 0; q < count; q++) entry[q] = a6(j, a6(i, y00[q], y10[q]), a6(i, y01[q], y11[q]));
      }
    }
  }
}

// Y = Aᵀ M A + bias for each tile, written into the map by write_output_tiles.
INLINE void output_rows(
  const float *restrict m, long stride, long tile_rows, long tiles, long height, float bias, float *restrict out,
  long width) {
  const long pairs = MIN(width / 2, tiles);
  float y00[CHUNK], y01[CHUNK], y10[CHUNK], y11[CHUNK];
  FOR_CHUNKS(tile_rows, tiles) {
    const long cols = MIN(CHUNK, tiles - x0);
    const long count = chunk_rows * cols;
    const float *restrict mc = m + r0 * tiles + x0;
    for (long q = 0; q < count; q++) {
      float s[6], t[6];
      for (int j = 0; j < 6; j++) {
        const float column[6] = {
          mc[j * stride + q], mc[(6 + j) * stride + q], mc[(12 + j) * stride + q], mc[(18 + j) * stride + q],
          mc[(24 + j) * stride + q], mc[(30 + j) * stride + q]};
        at6(column, &s[j], &t[j]);
      }
      float a, b;
      at6(s, &a, &b);
      y00[q] = a + bias;
      y01[q] = b + bias;
      at6(t, &a, &b);
      y10[q] = a + bias;
      y11[q] = b + bias;
    }
    write_output_tiles(y00, y01, y10, y11, r0, chunk_rows, x0, cols, pairs, height, out, width);
  }
}

// U = G g Gᵀ for the filters of outputs o0 ..< o1, packed as in winograd.c.
INLINE void filters(
  const float *restrict weight, long outputs, long inputs, int flipped, long mr, long o0, long o1,
  float *restrict u) {
  const long panels = (outputs + mr - 1) / mr;
  const long panel_size = inputs * mr;
  for (long o = o0; o < o1; o++) {
    float *restrict base = u + (o / mr) * panel_size + o % mr;
    for (long i = 0; i < inputs; i++) {
      float g[25];
      read_filter(weight, outputs, inputs, o, i, flipped, 25, g);
      // G g (6 × 5), column by column, then (G g) Gᵀ (6 × 6), row by row.
      float t[6][5];
      for (int j = 0; j < 5; j++) {
        const float column[5] = {g[j], g[5 + j], g[10 + j], g[15 + j], g[20 + j]};
        float c[6];
        g6(column, c);
        for (int r = 0; r < 6; r++) t[r][j] = c[r];
      }
      for (int r = 0; r < 6; r++) {
        float row[6];
        g6(t[r], row);
        for (int j = 0; j < 6; j++) base[((6 * r + j) * panels) * panel_size + i * mr] = row[j];
      }
    }
  }
}

// dg += Gᵀ du G for the filters p0 ..< p1.
INLINE void filter_gradients(const float *restrict du, long pairs, long p0, long p1, float *restrict dg) {
  for (long p = p0; p < p1; p++) {
    float t[5][6];
    for (int j = 0; j < 6; j++) {
      float column[6], c[5];
      for (int i = 0; i < 6; i++) column[i] = du[(6 * i + j) * pairs + p];
      gt6(column, c);
      for (int k = 0; k < 5; k++) t[k][j] = c[k];
    }
    for (int k = 0; k < 5; k++) {
      float row[5];
      gt6(t[k], row);
      for (int j = 0; j < 5; j++) dg[p * 25 + 5 * k + j] += row[j];
    }
  }
}

VARIANTS(
  input_rows,
  (const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip),
  (rows, len, tile_rows, tiles, out, stride, first, nr, strip))
VARIANTS(
  gradient_rows, (const float *rows, long len, long tile_rows, long tiles, float *out, long stride),
  (rows, len, tile_rows, tiles, out, stride))
VARIANTS(
  output_rows,
  (const float *m, long stride, long tile_rows, long tiles, long height, float bias, float *out, long width),
  (m, stride, tile_rows, tiles, height, bias, out, width))
VARIANTS(
  filters, (const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u),
  (weight, outputs, inputs, flipped, mr, o0, o1, u))
VARIANTS(filter_gradients, (const float *du, long pairs, long p0, long p1, float *dg), (du, pairs, p0, p1, dg))

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512vl"), always_inline)) static inline

// The input transform with AVX-512, 16 tiles to a vector: a tile row's tiles 16 at a time, or
// when a row has at most 8 tiles, two tile rows to a vector (the second's tiles from lane T).
// Column 2x + j of input row i of every tile is picked from two loaded vectors by a permute, so
// that short rows (7 tiles on a 14-wide map) fill the vector instead of running one tile at a
// time; the clang-vectorized loop above ran scalar on them, and took 14 % of an mnist-cnn
// step. Reads up to 29 floats past the last of the rows (the caller's slack).
__attribute__((target("avx512f,avx512vl"))) static void input_rows_vector_avx512(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride, long first,
  long nr, long strip) {
  const int pairs = tiles <= 8;
  // pick[p] lane l: column 2l + p of the span (one tile row), or of the first row's span for
  // l < T and of the second's (16 floats on) after it.
  __m512i pick[2];
  for (int p = 0; p < 2; p++) {
    int index[16];
    for (int l = 0; l < 16; l++) {
      index[l] = pairs ? (l < tiles ? 2 * l + p : (l < 2 * tiles ? 16 + 2 * (l - tiles) + p : 0)) : (2 * l + p) & 31;
    }
    pick[p] = _mm512_loadu_si512(index);
  }
  for (long r = 0; r < tile_rows;) {
    const long together = pairs && r + 1 < tile_rows ? 2 : 1;
    for (long x0 = 0; x0 < tiles; x0 += 16) {
      const long count = pairs ? together * tiles : MIN(16, tiles - x0);
      __m512 d[6][6];
      for (int i = 0; i < 6; i++) {
        const float *a = rows + (2 * r + i) * len + 2 * x0;
        const float *b = pairs ? a + 2 * len : a + 16;
        for (int s = 0; s < 3; s++) {
          const __m512 low = _mm512_loadu_ps(a + 2 * s), high = _mm512_loadu_ps(b + 2 * s);
          d[i][2 * s] = _mm512_permutex2var_ps(low, pick[0], high);
          d[i][2 * s + 1] = _mm512_permutex2var_ps(low, pick[1], high);
        }
      }
      // Bᵀ d down each column j, then along each row i: the order of bt6 in input_tiles.
      __m512 t[6][6], v[36];
      for (int j = 0; j < 6; j++) {
        const __m512 column[6] = {d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]};
        __m512 c[6];
        bt6_512(column, c);
        for (int i = 0; i < 6; i++) t[i][j] = c[i];
      }
      for (int i = 0; i < 6; i++) bt6_512(t[i], v + 6 * i);
      store_tile_vectors(v, 36, count, first + r * tiles + x0, out, stride, nr, strip);
      if (pairs) break;
    }
    r += together;
  }
}
#endif

// The same with AVX2, eight tiles to a vector: a tile row's tiles 8 at a time, or when a row
// has at most 4 tiles, two tile rows to a vector (the second's tiles from lane 4). Columns
// 2x + j of the eight tiles are split out of two loaded vectors by a shuffle and a 64-bit
// permute. The clang-vectorized loop ran scalar on short rows (7 tiles on mnist-cnn's 14-wide
// map): 21 % of an mnist-cnn epoch on AMD EPYC Zen 3. Reads up to 14 floats past the last of
// the rows (the caller's slack).
__attribute__((target("avx2,fma"))) static void input_rows_vector_avx2(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride, long first,
  long nr, long strip) {
  const int pairs = tiles <= 4;
  for (long r = 0; r < tile_rows;) {
    const long together = pairs && r + 1 < tile_rows ? 2 : 1;
    for (long x0 = 0; x0 < tiles; x0 += 8) {
      const long count = MIN(8, tiles - x0);
      // Bᵀ d down each column j (two at a time, from one pair of loads), then along each row i:
      // the order of bt6 in input_tiles.
      __m256 t[6][6];
      for (int s = 0; s < 3; s++) {
        __m256 even[6], odd[6], c[6];
        for (int i = 0; i < 6; i++) {
          const float *a = rows + (2 * r + i) * len + 2 * x0 + 2 * s;
          const float *b = pairs ? (together == 2 ? a + 2 * len : a) : a + 8;
          const __m256 low = _mm256_loadu_ps(a), high = _mm256_loadu_ps(b);
          even[i] = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(low, high, 0x88)), 0xD8));
          odd[i] = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(low, high, 0xDD)), 0xD8));
        }
        bt6_256(even, c);
        for (int i = 0; i < 6; i++) t[i][2 * s] = c[i];
        bt6_256(odd, c);
        for (int i = 0; i < 6; i++) t[i][2 * s + 1] = c[i];
      }
      const long q = first + r * tiles + x0;
      for (int i = 0; i < 6; i++) {
        __m256 v[6];
        bt6_256(t[i], v);
        store_tile_lanes_256(v, 6, 0, count, q, out + 6 * i * stride, stride, nr, strip);
        if (together == 2) store_tile_lanes_256(v, 6, 4, tiles, q + tiles, out + 6 * i * stride, stride, nr, strip);
      }
    }
    r += together;
  }
}

void ccnn_winograd5_input_rows_isa(
  int isa, const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr,
  long strip) {
#if defined(__x86_64__)
  const int effective = isa < ccnn_isa() ? isa : ccnn_isa();
  if (effective == CCNN_ISA_AVX512) {
    input_rows_vector_avx512(rows, len, tile_rows, tiles, out, stride, first, nr, strip);
    return;
  }
  if (effective == CCNN_ISA_AVX2) {
    input_rows_vector_avx2(rows, len, tile_rows, tiles, out, stride, first, nr, strip);
    return;
  }
#endif
  DISPATCH_ISA(input_rows, isa, (rows, len, tile_rows, tiles, out, stride, first, nr, strip))
}

void ccnn_winograd5_input_rows(
  const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip) {
  ccnn_winograd5_input_rows_isa(ccnn_isa(), rows, len, tile_rows, tiles, out, stride, first, nr, strip);
}

void ccnn_winograd5_input_planes(
  const float *planes, long plane_size, long channels, long height, long width, long pad_top, long pad_left, long ty0,
  long tile_rows, float *rows, long len, long tiles, float *out, long channel_step, long stride, long first, long nr,
  long strip) {
  input_planes(
    planes, plane_size, channels, height, width, pad_top, pad_left, ty0, tile_rows, 2, 4, rows, len, tiles, out,
    channel_step, stride, first, nr, strip, ccnn_winograd5_input_rows);
}

void ccnn_winograd5_gradient_planes(
  const float *planes, long plane_size, long channels, long height, long width, long ty0, long tile_rows,
  float *rows, long len, long tiles, float *out, long channel_step, long stride) {
  gradient_planes(
    planes, plane_size, channels, height, width, ty0, tile_rows, 2, rows, len, tiles, out, channel_step, stride,
    ccnn_winograd5_gradient_rows);
}

void ccnn_winograd5_gradient_rows(const float *rows, long len, long tile_rows, long tiles, float *out, long stride) {
  DISPATCH(gradient_rows, (rows, len, tile_rows, tiles, out, stride))
}

void ccnn_winograd5_output_rows(
  const float *m, long stride, long tile_rows, long tiles, long height, float bias, float *out, long width) {
  DISPATCH(output_rows, (m, stride, tile_rows, tiles, height, bias, out, width))
}

void ccnn_winograd5_filters(
  const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u) {
  DISPATCH(filters, (weight, outputs, inputs, flipped, mr, o0, o1, u))
}

void ccnn_winograd5_filter_gradients(const float *du, long pairs, long p0, long p1, float *dg) {
  DISPATCH(filter_gradients, (du, pairs, p0, p1, dg))
}
