// The tile transforms of Winograd F(2×2, 3×3) (see CNNKernels/Winograd.swift for the
// algorithm): plain loops over the tiles of one tile row, which clang vectorizes; each is
// compiled for AVX-512, AVX2 and the baseline, and the widest the CPU runs is called.
#include "dispatch.h"

#define INLINE static inline __attribute__((always_inline))

// V = Bᵀ d B for each tile x: d is rows[i·len + 2x + j] (i, j < 4); v[4i + j] goes to
// out[(4i + j)·stride + x].
INLINE void input_tiles(const float *restrict rows, long len, long tiles, float *restrict out, long stride) {
  const float *restrict r0 = rows, *restrict r1 = rows + len, *restrict r2 = rows + 2 * len, *restrict r3 = rows + 3 * len;
  for (long x = 0; x < tiles; x++) {
    const long c = 2 * x;
    // Bᵀ d: t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3 (rows), column by column.
    float t[4][4];
    for (int j = 0; j < 4; j++) {
      const float d0 = r0[c + j], d1 = r1[c + j], d2 = r2[c + j], d3 = r3[c + j];
      t[0][j] = d0 - d2;
      t[1][j] = d1 + d2;
      t[2][j] = d2 - d1;
      t[3][j] = d1 - d3;
    }
    // (Bᵀ d) B: the same combination along each row.
    for (int i = 0; i < 4; i++) {
      out[(4 * i + 0) * stride + x] = t[i][0] - t[i][2];
      out[(4 * i + 1) * stride + x] = t[i][1] + t[i][2];
      out[(4 * i + 2) * stride + x] = t[i][2] - t[i][1];
      out[(4 * i + 3) * stride + x] = t[i][1] - t[i][3];
    }
  }
}

// A dY Aᵀ for each tile x: dY is rows[a·len + 2x + b] (a, b < 2); w[4i + j] goes to
// out[(4i + j)·stride + x].
INLINE void gradient_tiles(const float *restrict rows, long len, long tiles, float *restrict out, long stride) {
  const float *restrict y0 = rows, *restrict y1 = rows + len;
  for (long x = 0; x < tiles; x++) {
    const long c = 2 * x;
    // A dY: u0 = y0, u1 = y0 + y1, u2 = y0 − y1, u3 = −y1 (rows), for both columns.
    float u[4][2];
    for (int b = 0; b < 2; b++) {
      const float a0 = y0[c + b], a1 = y1[c + b];
      u[0][b] = a0;
      u[1][b] = a0 + a1;
      u[2][b] = a0 - a1;
      u[3][b] = -a1;
    }
    for (int i = 0; i < 4; i++) {
      out[(4 * i + 0) * stride + x] = u[i][0];
      out[(4 * i + 1) * stride + x] = u[i][0] + u[i][1];
      out[(4 * i + 2) * stride + x] = u[i][0] - u[i][1];
      out[(4 * i + 3) * stride + x] = -u[i][1];
    }
  }
}

// Y = Aᵀ M A + bias for one tile: the products m[ξ·stride] (ξ = 4i + j).
#define OUTPUT_TILE(m, stride, bias)                                                         \
  float s[4], t[4];                                                                          \
  for (int j = 0; j < 4; j++) {                                                              \
    const float m0 = (m)[j * (stride)], m1 = (m)[(4 + j) * (stride)];                        \
    const float m2 = (m)[(8 + j) * (stride)], m3 = (m)[(12 + j) * (stride)];                 \
    s[j] = m0 + m1 + m2;                                                                     \
    t[j] = m1 - m2 - m3;                                                                     \
  }                                                                                          \
  const float y00 = s[0] + s[1] + s[2] + (bias), y01 = s[1] - s[2] - s[3] + (bias);          \
  const float y10 = t[0] + t[1] + t[2] + (bias), y11 = t[1] - t[2] - t[3] + (bias);

// Tile x's outputs go to row0[2x], row0[2x + 1], row1[2x], row1[2x + 1]; tiles from `pairs`
// on (at most one, when OW is odd) have only their first column, and without row1 only the
// first row exists.
INLINE void output_tiles(
  const float *restrict m, long stride, long tiles, long pairs, float bias, float *restrict row0,
  float *restrict row1) {
  if (row1) {
    for (long x = 0; x < pairs; x++) {
      OUTPUT_TILE(m + x, stride, bias)
      row0[2 * x] = y00;
      row0[2 * x + 1] = y01;
      row1[2 * x] = y10;
      row1[2 * x + 1] = y11;
    }
  } else {
    for (long x = 0; x < pairs; x++) {
      OUTPUT_TILE(m + x, stride, bias)
      (void)y10;
      (void)y11;
      row0[2 * x] = y00;
      row0[2 * x + 1] = y01;
    }
  }
  for (long x = pairs; x < tiles; x++) {
    OUTPUT_TILE(m + x, stride, bias)
    (void)y01;
    (void)y11;
    row0[2 * x] = y00;
    if (row1) row1[2 * x] = y10;
  }
}

// The transforms over `tile_rows` consecutive tile rows of `tiles` tiles each (see the header):
// the loops over tile rows run here rather than in Swift, so that maps of 2 or 4 tiles per row
// do not pay a call per row.
INLINE void input_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride, long first,
  long nr, long strip) {
  for (long r = 0; r < tile_rows; r++) {
    const float *restrict row = rows + 2 * r * len;
    long q = first + r * tiles;
    if (nr <= 0) {
      input_tiles(row, len, tiles, out + q, stride);
      continue;
    }
    for (long x = 0; x < tiles;) {
      const long lane = q % nr;
      const long run = nr - lane < tiles - x ? nr - lane : tiles - x;
      input_tiles(row + 2 * x, len, run, out + (q / nr) * strip + lane, stride);
      x += run;
      q += run;
    }
  }
}

INLINE void gradient_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride) {
  for (long r = 0; r < tile_rows; r++) gradient_tiles(rows + 2 * r * len, len, tiles, out + r * tiles, stride);
}

INLINE void output_rows(
  const float *restrict m, long stride, long tile_rows, long tiles, long height, float bias, float *restrict out,
  long width) {
  const long pairs = width / 2 < tiles ? width / 2 : tiles;
  for (long r = 0; r < tile_rows; r++) {
    float *restrict row0 = out + 2 * r * width;
    output_tiles(m + r * tiles, stride, tiles, pairs, bias, row0, 2 * r + 1 < height ? row0 + width : 0);
  }
}

// U = G g Gᵀ for the filters of outputs o0 ..< o1 (see ccnn_winograd_filters).
INLINE void filters(
  const float *restrict weight, long outputs, long inputs, int flipped, long mr, long o0, long o1,
  float *restrict u) {
  const long panels = (outputs + mr - 1) / mr;
  const long panel_size = inputs * mr;
  for (long o = o0; o < o1; o++) {
    float *restrict base = u + (o / mr) * panel_size + o % mr;
    for (long i = 0; i < inputs; i++) {
      float g[9];
      if (flipped) {
        const float *f = weight + (i * outputs + o) * 9;
        for (int tap = 0; tap < 9; tap++) g[tap] = f[8 - tap];
      } else {
        const float *f = weight + (o * inputs + i) * 9;
        for (int tap = 0; tap < 9; tap++) g[tap] = f[tap];
      }
      // G g (4 × 3), then (G g) Gᵀ (4 × 4).
      float t[4][3];
      for (int j = 0; j < 3; j++) {
        const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        t[0][j] = g0;
        t[1][j] = 0.5f * (g0 + g1 + g2);
        t[2][j] = 0.5f * (g0 - g1 + g2);
        t[3][j] = g2;
      }
      for (int r = 0; r < 4; r++) {
        const float a = t[r][0], b = t[r][1], c = t[r][2];
        const float row[4] = {a, 0.5f * (a + b + c), 0.5f * (a - b + c), c};
        for (int j = 0; j < 4; j++) base[((4 * r + j) * panels) * panel_size + i * mr] = row[j];
      }
    }
  }
}

// dg += Gᵀ du G for the filters p0 ..< p1 (see ccnn_winograd_filter_gradients).
INLINE void filter_gradients(const float *restrict du, long pairs, long p0, long p1, float *restrict dg) {
  for (long p = p0; p < p1; p++) {
    // Gᵀ du (3 × 4); Gᵀ's rows are (1, ½, ½, 0), (0, ½, −½, 0), (0, ½, ½, 1).
    float t[3][4];
    for (int j = 0; j < 4; j++) {
      const float d0 = du[j * pairs + p], d1 = du[(4 + j) * pairs + p];
      const float d2 = du[(8 + j) * pairs + p], d3 = du[(12 + j) * pairs + p];
      t[0][j] = d0 + 0.5f * (d1 + d2);
      t[1][j] = 0.5f * (d1 - d2);
      t[2][j] = 0.5f * (d1 + d2) + d3;
    }
    for (int i = 0; i < 3; i++) {
      const float a = t[i][0], b = t[i][1], c = t[i][2], d = t[i][3];
      dg[p * 9 + 3 * i] += a + 0.5f * (b + c);
      dg[p * 9 + 3 * i + 1] += 0.5f * (b - c);
      dg[p * 9 + 3 * i + 2] += 0.5f * (b + c) + d;
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
void ccnn_winograd_input_rows(
  const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip) {
  DISPATCH(input_rows, (rows, len, tile_rows, tiles, out, stride, first, nr, strip))
}

void ccnn_winograd_gradient_rows(const float *rows, long len, long tile_rows, long tiles, float *out, long stride) {
  DISPATCH(gradient_rows, (rows, len, tile_rows, tiles, out, stride))
}

void ccnn_winograd_output_rows(
  const float *m, long stride, long tile_rows, long tiles, long height, float bias, float *out, long width) {
  DISPATCH(output_rows, (m, stride, tile_rows, tiles, height, bias, out, width))
}

VARIANTS(
  filters, (const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u),
  (weight, outputs, inputs, flipped, mr, o0, o1, u))
VARIANTS(filter_gradients, (const float *du, long pairs, long p0, long p1, float *dg), (du, pairs, p0, p1, dg))

void ccnn_winograd_filters(
  const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u) {
  DISPATCH(filters, (weight, outputs, inputs, flipped, mr, o0, o1, u))
}

void ccnn_winograd_filter_gradients(const float *du, long pairs, long p0, long p1, float *dg) {
  DISPATCH(filter_gradients, (du, pairs, p0, p1, dg))
}
