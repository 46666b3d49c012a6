// The tile transforms of Winograd F(4×4, 3×3) (see CNNKernels/Winograd.swift for the
// algorithm): 6×6 input tiles, 4 apart, for 4×4 output tiles, at the points 0, 1, −1, 2, −2
// and ∞: 36 multiplications per tile and channel pair for 16 outputs, against 144 direct and
// 64 with F(2×2, 3×3).
//
//        ⎡4   0  −5   0  1  0⎤        ⎡ 1/4     0     0 ⎤
//        ⎢0  −4  −4   1  1  0⎥        ⎢−1/6  −1/6  −1/6 ⎥         ⎡1  1   1  1   1  0⎤
//   Bᵀ = ⎢0   4  −4  −1  1  0⎥    G = ⎢−1/6   1/6  −1/6 ⎥    Aᵀ = ⎢0  1  −1  2  −2  0⎥
//        ⎢0  −2  −1   2  1  0⎥        ⎢1/24  1/12   1/6 ⎥         ⎢0  1   1  4   4  0⎥
//        ⎢0   2  −1  −2  1  0⎥        ⎢1/24 −1/12   1/6 ⎥         ⎣0  1  −1  8  −8  1⎦
//        ⎣0   4   0  −5  0  1⎦        ⎣  0     0     1  ⎦
//
// Bᵀ is F(2×2, 5×5)'s (the same points; bt6 in winograd_tiles.h). Each 2-D transform is the
// 1-D one down the columns, then along the rows. Plain loops over tiles, compiled for
// AVX-512, AVX2 and the baseline (dispatch.h).
#include "winograd_tiles.h"

#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// u = A y for the four values y of an output-tile column (A = (Aᵀ)ᵀ, 6 × 4).
INLINE void a4(const float y[4], float u[6]) {
  const float even = y[0] + y[2], odd = y[1] + y[3];
  const float even4 = y[0] + 4 * y[2], odd4 = 2 * y[1] + 8 * y[3];
  u[0] = y[0];
  u[1] = even + odd;
  u[2] = even - odd;
  u[3] = even4 + odd4;
  u[4] = even4 - odd4;
  u[5] = y[3];
}

// o = Aᵀ m for six values m.
INLINE void at4(const float m[6], float o[4]) {
  const float s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  o[0] = m[0] + s12 + s34;
  o[1] = d12 + 2 * d34;
  o[2] = s12 + 4 * s34;
  o[3] = d12 + 8 * d34 + m[5];
}

// u = G g for three values g (by the fractions' reciprocals, which vectorize as multiplies).
INLINE void g4(const float g[3], float u[6]) {
  const float sixth = 1.0f / 6, twentyfourth = 1.0f / 24;
  const float even = g[0] + g[2], even4 = g[0] + 4 * g[2];
  u[0] = 0.25f * g[0];
  u[1] = -sixth * (even + g[1]);
  u[2] = -sixth * (even - g[1]);
  u[3] = twentyfourth * (even4 + 2 * g[1]);
  u[4] = twentyfourth * (even4 - 2 * g[1]);
  u[5] = g[2];
}

// g = Gᵀ d for six values d.
INLINE void gt4(const float d[6], float g[3]) {
  const float sixth = 1.0f / 6, twelfth = 1.0f / 12, twentyfourth = 1.0f / 24;
  const float s12 = d[1] + d[2], s34 = d[3] + d[4];
  g[0] = 0.25f * d[0] - sixth * s12 + twentyfourth * s34;
  g[1] = sixth * (d[2] - d[1]) + twelfth * (d[3] - d[4]);
  g[2] = sixth * (s34 - s12) + d[5];
}

// V = Bᵀ d B for each tile x: d is rows[i·len + 4x + j] (i, j < 6).
INLINE void input_tiles(const float *restrict rows, long len, long tiles, float *restrict out, long stride) {
  input_tiles6(rows, len, tiles, 4, out, stride);
}

// The tiles of every tile row (4 input rows apart), placed by input_tile_rows.
INLINE void input_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride, long first,
  long nr, long strip) {
  input_tile_rows(rows, len, tile_rows, tiles, 4, out, stride, first, nr, strip, input_tiles);
}

// A dY Aᵀ for each 4×4 tile of dY (rows 4r ..< 4r + 4, columns 4x ..< 4x + 4 of `rows`), the
// tiles of all the rows in one loop: entry ξ = 6i + j of tile (r, x) to out[ξ·stride + r·tiles + x].
INLINE void gradient_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride) {
  for (long r = 0; r < tile_rows; r++) {
    for (long x = 0; x < tiles; x++) {
      const float *restrict y = rows + 4 * r * len + 4 * x;
      float *restrict o = out + r * tiles + x;
      // A dY down each column b, then A along each row i.
      float u[6][4];
      for (int b = 0; b < 4; b++) {
        const float column[4] = {y[b], y[len + b], y[2 * len + b], y[3 * len + b]};
        float c[6];
        a4(column, c);
        for (int i = 0; i < 6; i++) u[i][b] = c[i];
      }
      for (int i = 0; i < 6; i++) {
        float w[6];
        a4(u[i], w);
        for (int j = 0; j < 6; j++) o[(6 * i + j) * stride] = w[j];
      }
    }
  }
}

// Y = Aᵀ M A + bias for each tile: tile (r, x)'s products at m[ξ·stride + r·tiles + x], its
// outputs to out[(4r + a)·width + 4x + b] for the rows below `height` and columns below `width`.
INLINE void output_rows(
  const float *restrict m, long stride, long tile_rows, long tiles, long height, float bias, float *restrict out,
  long width) {
  for (long r = 0; r < tile_rows; r++) {
    const long rows_here = MIN(4, height - 4 * r);
    for (long x = 0; x < tiles; x++) {
      const float *restrict mc = m + r * tiles + x;
      const long columns_here = MIN(4, width - 4 * x);
      // Aᵀ M down each column j, then Aᵀ along each row a.
      float s[4][6];
      for (int j = 0; j < 6; j++) {
        const float column[6] = {
          mc[j * stride], mc[(6 + j) * stride], mc[(12 + j) * stride], mc[(18 + j) * stride], mc[(24 + j) * stride],
          mc[(30 + j) * stride]};
        float c[4];
        at4(column, c);
        for (int a = 0; a < 4; a++) s[a][j] = c[a];
      }
      for (long a = 0; a < rows_here; a++) {
        float y[4];
        at4(s[a], y);
        float *restrict line = out + (4 * r + a) * width + 4 * x;
        for (long b = 0; b < columns_here; b++) line[b] = y[b] + bias;
      }
    }
  }
}

// The inputs of a panel transformed before their stores, and the widest panel (MR) taken.
#define FILTER_CHUNK 8
#define MAX_MR 32

// U = G g Gᵀ for the filters of outputs o0 ..< o1, packed as in winograd.c: a panel's filters
// FILTER_CHUNK inputs at a time, the panel's MR filters in the lanes, into a local block, then
// each position's part of the block (FILTER_CHUNK · MR consecutive floats of U) stored at once.
// Filter by filter, as winograd.c goes, each filter's 36 stores land half a megabyte apart at
// 256 channels, 36 streams of single floats, and the transform (scalar) took a quarter of a
// 4×4-map forward pass; now about a tenth, most of it writing U.
INLINE void filters(
  const float *restrict weight, long outputs, long inputs, int flipped, long mr, long o0, long o1,
  float *restrict u) {
  const long panels = (outputs + mr - 1) / mr;
  const long panel_size = inputs * mr;
  float block[36][FILTER_CHUNK * MAX_MR];
  for (long panel = o0 / mr; panel * mr < o1; panel++) {
    const long first = panel * mr > o0 ? panel * mr : o0, last = MIN(o1, panel * mr + mr);
    const long lane0 = first - panel * mr, lanes = last - first;
    float *restrict base = u + panel * panel_size;
    for (long i0 = 0; i0 < inputs; i0 += FILTER_CHUNK) {
      const long chunk = MIN(FILTER_CHUNK, inputs - i0);
      for (long ii = 0; ii < chunk; ii++) {
        // The panel's filters of input i0 + ii, lane l = o mod MR, then G g Gᵀ lane by lane
        // (loops over the lanes, which clang vectorizes).
        float g[9][MAX_MR];
        for (long o = first; o < last; o++) {
          float taps[9];
          read_filter(weight, outputs, inputs, o, i0 + ii, flipped, 9, taps);
          for (int tap = 0; tap < 9; tap++) g[tap][o - panel * mr] = taps[tap];
        }
        // G g (6 × 3), column by column, then (G g) Gᵀ (6 × 6), row by row.
        float t[6][3][MAX_MR];
        for (int j = 0; j < 3; j++) {
          for (long l = lane0; l < lane0 + lanes; l++) {
            const float column[3] = {g[j][l], g[3 + j][l], g[6 + j][l]};
            float c[6];
            g4(column, c);
            for (int r = 0; r < 6; r++) t[r][j][l] = c[r];
          }
        }
        for (int r = 0; r < 6; r++) {
          for (long l = lane0; l < lane0 + lanes; l++) {
            const float row[3] = {t[r][0][l], t[r][1][l], t[r][2][l]};
            float c[6];
            g4(row, c);
            for (int j = 0; j < 6; j++) block[6 * r + j][ii * mr + l] = c[j];
          }
        }
      }
      // Whole panels' runs with non-temporal stores when they are whole cache lines: U (9.4 MB
      // at 256 channels) is far larger than L2, and ordinary stores first read every line in
      // (the transform ran at a third of the speed).
      const int streams = lanes == mr && (chunk * mr) % 16 == 0 && ((unsigned long)(base + i0 * mr) & 63) == 0
        && ((panels * panel_size) % 16) == 0;
      for (int xi = 0; xi < 36; xi++) {
        float *restrict to = base + xi * panels * panel_size + i0 * mr;
        if (streams) {
#if defined(__x86_64__)
          for (long k = 0; k < chunk * mr; k += 4) _mm_stream_ps(to + k, _mm_loadu_ps(block[xi] + k));
#else
          for (long k = 0; k < chunk * mr; k++) to[k] = block[xi][k];
#endif
        } else if (lanes == mr) {
          for (long k = 0; k < chunk * mr; k++) to[k] = block[xi][k];
        } else {
          for (long ii = 0; ii < chunk; ii++) {
            for (long k = lane0; k < lane0 + lanes; k++) to[ii * mr + k] = block[xi][ii * mr + k];
          }
        }
      }
    }
  }
#if defined(__x86_64__)
  _mm_sfence();  // the streamed stores before the threads' join
#endif
}

// dg += Gᵀ du G for the filters p0 ..< p1, 16 at a time: Gᵀ du G lane by lane into a local
// block (loops over the lanes, which clang vectorizes; du's entries of consecutive filters are
// consecutive), then added into the filters' 3×3 gradients. Filter by filter, the transform
// ran scalar and took a tenth of a 4×4-map forward and backward pass.
INLINE void filter_gradients(const float *restrict du, long pairs, long p0, long p1, float *restrict dg) {
  enum { LANES = 16 };
  for (long p = p0; p < p1; p += LANES) {
    const long lanes = MIN(LANES, p1 - p);
    float t[3][6][LANES], block[9][LANES];
    for (int j = 0; j < 6; j++) {
      for (long l = 0; l < lanes; l++) {
        float column[6], c[3];
        for (int i = 0; i < 6; i++) column[i] = du[(6 * i + j) * pairs + p + l];
        gt4(column, c);
        for (int k = 0; k < 3; k++) t[k][j][l] = c[k];
      }
    }
    for (int k = 0; k < 3; k++) {
      for (long l = 0; l < lanes; l++) {
        const float row[6] = {t[k][0][l], t[k][1][l], t[k][2][l], t[k][3][l], t[k][4][l], t[k][5][l]};
        float c[3];
        gt4(row, c);
        for (int j = 0; j < 3; j++) block[3 * k + j][l] = c[j];
      }
    }
    for (long l = 0; l < lanes; l++) {
      for (int tap = 0; tap < 9; tap++) dg[(p + l) * 9 + tap] += block[tap][l];
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

void ccnn_winograd4_input_rows(
  const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip) {
  DISPATCH(input_rows, (rows, len, tile_rows, tiles, out, stride, first, nr, strip))
}

void ccnn_winograd4_input_planes(
  const float *planes, long plane_size, long channels, long height, long width, long pad_top, long pad_left, long ty0,
  long tile_rows, float *rows, long len, long tiles, float *out, long channel_step, long stride, long first, long nr,
  long strip) {
  input_planes(
    planes, plane_size, channels, height, width, pad_top, pad_left, ty0, tile_rows, 4, 2, rows, len, tiles, out,
    channel_step, stride, first, nr, strip, ccnn_winograd4_input_rows);
}

void ccnn_winograd4_gradient_rows(const float *rows, long len, long tile_rows, long tiles, float *out, long stride) {
  DISPATCH(gradient_rows, (rows, len, tile_rows, tiles, out, stride))
}

void ccnn_winograd4_gradient_planes(
  const float *planes, long plane_size, long channels, long height, long width, long ty0, long tile_rows,
  float *rows, long len, long tiles, float *out, long channel_step, long stride) {
  gradient_planes(
    planes, plane_size, channels, height, width, ty0, tile_rows, 4, rows, len, tiles, out, channel_step, stride,
    ccnn_winograd4_gradient_rows);
}

void ccnn_winograd4_output_rows(
  const float *m, long stride, long tile_rows, long tiles, long height, float bias, float *out, long width) {
  DISPATCH(output_rows, (m, stride, tile_rows, tiles, height, bias, out, width))
}

void ccnn_winograd4_filters(
  const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u) {
  if (mr > MAX_MR) abort();
  DISPATCH(filters, (weight, outputs, inputs, flipped, mr, o0, o1, u))
}

void ccnn_winograd4_filter_gradients(const float *du, long pairs, long p0, long p1, float *dg) {
  DISPATCH(filter_gradients, (du, pairs, p0, p1, dg))
}
