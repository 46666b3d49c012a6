// The tile transforms of Winograd F(2×2, 3×3) (see CNNKernels/Winograd.swift for the
// algorithm): plain loops over tiles, which clang vectorizes; each is
// compiled for AVX-512, AVX2 and the baseline, and the widest the CPU runs is called.
#include "winograd_tiles.h"

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

// The transforms over `tile_rows` consecutive tile rows of `tiles` tiles each (see the header).
// The loops over tile rows run here rather than in Swift, so that maps of 2 or 4 tiles per row
// do not pay a call per row.
//
// The input transform goes along each row: its tiles overlap, and neither reading them
// through offsets (gathers) nor first splitting the rows by column parity made it faster (its
// time goes to writing into the GEMM's strips). The output-gradient and output transforms,
// whose tiles do not overlap, take the tiles of all the rows in one loop (q = r·tiles + x), in
// chunks of whole rows of at most `CHUNK` tiles, each tile's 2×2 block split into four arrays:
// a loop over one row of 2 to 14 tiles never fills a 16-lane vector, and ran scalar.

INLINE void input_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride, long first,
  long nr, long strip) {
  input_tile_rows(rows, len, tile_rows, tiles, 2, out, stride, first, nr, strip, input_tiles);
}

INLINE void gradient_rows(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride) {
  float y00[CHUNK], y01[CHUNK], y10[CHUNK], y11[CHUNK];
  FOR_CHUNKS(tile_rows, tiles) {
    const long cols = MIN(CHUNK, tiles - x0);
    gather_gradient_tiles(rows, len, r0, chunk_rows, x0, cols, y00, y01, y10, y11);
    float *restrict o = out + r0 * tiles + x0;
    const long count = chunk_rows * cols;
    for (long q = 0; q < count; q++) {
      // A dY: u0 = y0, u1 = y0 + y1, u2 = y0 − y1, u3 = −y1 (rows), then the same along each row.
      const float u[4][2] = {
        {y00[q], y01[q]}, {y00[q] + y10[q], y01[q] + y11[q]}, {y00[q] - y10[q], y01[q] - y11[q]}, {-y10[q], -y11[q]}};
      for (int i = 0; i < 4; i++) {
        o[(4 * i + 0) * stride + q] = u[i][0];
        o[(4 * i + 1) * stride + q] = u[i][0] + u[i][1];
        o[(4 * i + 2) * stride + q] = u[i][0] - u[i][1];
        o[(4 * i + 3) * stride + q] = -u[i][1];
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
      // s_j = m0j + m1j + m2j and t_j = m1j − m2j − m3j down the rows, then the same across.
      float s[4], t[4];
      for (int j = 0; j < 4; j++) {
        const float m0 = mc[j * stride + q], m1 = mc[(4 + j) * stride + q];
        const float m2 = mc[(8 + j) * stride + q], m3 = mc[(12 + j) * stride + q];
        s[j] = m0 + m1 + m2;
        t[j] = m1 - m2 - m3;
      }
      y00[q] = s[0] + s[1] + s[2] + bias;
      y01[q] = s[1] - s[2] - s[3] + bias;
      y10[q] = t[0] + t[1] + t[2] + bias;
      y11[q] = t[1] - t[2] - t[3] + bias;
    }
    write_output_tiles(y00, y01, y10, y11, r0, chunk_rows, x0, cols, pairs, height, out, width);
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
      read_filter(weight, outputs, inputs, o, i, flipped, 9, g);
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
#if defined(__x86_64__)
#include <immintrin.h>

// Rows of at most 7 tiles (16 floats) with AVX-512, where the loop over a row's tiles is too
// short to vectorize: each tile row's four input rows are loaded as one vector each, combined
// down the rows across all their columns at once (t_i), and the columns 2x, 2x + 1, 2x + 2 and
// 2x + 3 of every tile picked from t_i by permutes; the same additions in the same order as
// `input_tiles`, so the results are identical. Rows of at most 3 tiles (8 floats) go two tile
// rows to a vector, the second in lanes 8 to 15. ResNet-18 on CIFAR (8×8 and 4×4 maps, 4 and 2
// tiles a row) spent 10 % of a training step in the scalar loop. Runs of at most four or eight
// tiles are stored with 128- or 256-bit masked stores (AVX-512VL): on Zen 4 a 512-bit store
// is two, and the function's share of a ResNet-18 step fell by a seventh.
__attribute__((target("avx512f,avx512vl"))) static void input_rows_short_avx512(
  const float *restrict rows, long len, long tile_rows, long tiles, float *restrict out, long stride, long first,
  long nr, long strip) {
  const __mmask16 columns = (__mmask16)((1u << len) - 1);
  const int pairs = len <= 8;
  // Lane l picks column 2x + j of its half (x = l mod 8, the half's first lane h = l − x).
  __m512i pick[4];
  for (int j = 0; j < 4; j++) {
    int index[16];
    for (int l = 0; l < 16; l++) index[l] = (pairs ? (l & 8) + 2 * (l & 7) + j : 2 * l + j) & 15;
    pick[j] = _mm512_loadu_si512(index);
  }
  // Lanes 0–7 of the first vector, then lanes 0–7 of the second.
  const __m512i halves = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const __mmask16 row_lanes = (__mmask16)((1u << tiles) - 1);
  for (long r = 0; r < tile_rows;) {
    const long together = pairs && r + 1 < tile_rows ? 2 : 1;
    const float *restrict row = rows + 2 * r * len;
    __m512 d[4];
    if (together == 2) {
      __m512 a[6];
      for (int i = 0; i < 6; i++) a[i] = _mm512_maskz_loadu_ps(columns, row + i * len);
      for (int i = 0; i < 4; i++) d[i] = _mm512_permutex2var_ps(a[i], halves, a[i + 2]);
    } else {
      for (int i = 0; i < 4; i++) d[i] = _mm512_maskz_loadu_ps(columns, row + i * len);
    }
    const __m512 t[4] = {
      _mm512_sub_ps(d[0], d[2]), _mm512_add_ps(d[1], d[2]), _mm512_sub_ps(d[2], d[1]), _mm512_sub_ps(d[1], d[3])};
    // The tiles of the vector in lanes 0 ..< count, in the order of q.
    const long count = together * tiles;
    const __mmask16 valid = together == 2 ? (__mmask16)(row_lanes | row_lanes << 8) : row_lanes;
    __m512 v[16];
    for (int i = 0; i < 4; i++) {
      const __m512 e = _mm512_permutexvar_ps(pick[0], t[i]), o = _mm512_permutexvar_ps(pick[1], t[i]);
      const __m512 e2 = _mm512_permutexvar_ps(pick[2], t[i]), o2 = _mm512_permutexvar_ps(pick[3], t[i]);
      v[4 * i + 0] = _mm512_sub_ps(e, e2);
      v[4 * i + 1] = _mm512_add_ps(o, e2);
      v[4 * i + 2] = _mm512_sub_ps(e2, o);
      v[4 * i + 3] = _mm512_sub_ps(o, o2);
      if (together == 2) {
        for (int j = 0; j < 4; j++) v[4 * i + j] = _mm512_maskz_compress_ps(valid, v[4 * i + j]);
      }
    }
    store_tile_vectors(v, 16, count, first + r * tiles, out, stride, nr, strip);
    r += together;
  }
}

// Rows of exactly 4 tiles (8×8 and 7×7 maps: ResNet's first stage on CIFAR, its last at 224²)
// with AVX-512, four tile rows to a vector instead of one: input row i of tile rows r and
// r + 1 lies in one 32-float window (rows 2 apart, len = 10), of r + 2 and r + 3 in the next;
// a permute picks each window's columns 2x + j into lanes 0–7 or 8–15 and a blend joins them.
// Then the same additions in the same order as `input_tiles`. Reads up to 101 floats past the
// start of a group's first input row, which for a last group of fewer than four tile rows is
// up to 61 past the rows (the caller's 64 floats of slack).
__attribute__((target("avx512f,avx512vl"))) static void input_rows_four_avx512(
  const float *restrict rows, long tile_rows, float *restrict out, long stride, long first, long nr, long strip) {
  const long len = 10, tiles = 4;
  // Lane l: tile x = l mod 4 of the window's first (l mod 8 < 4) or second row, column 2x + j.
  __m512i pick[4];
  for (int j = 0; j < 4; j++) {
    int index[16];
    for (int l = 0; l < 16; l++) index[l] = ((l >> 2) & 1) * 2 * len + 2 * (l & 3) + j;
    pick[j] = _mm512_loadu_si512(index);
  }
  for (long r = 0; r < tile_rows; r += 4) {
    const long count = MIN(4, tile_rows - r) * tiles;
    const float *restrict row = rows + 2 * r * len;
    __m512 d[4][4];
    for (int i = 0; i < 4; i++) {
      const float *w = row + i * len;
      const __m512 a0 = _mm512_loadu_ps(w), a1 = _mm512_loadu_ps(w + 16);
      const __m512 b0 = _mm512_loadu_ps(w + 4 * len), b1 = _mm512_loadu_ps(w + 4 * len + 16);
      for (int j = 0; j < 4; j++) {
        d[i][j] = _mm512_mask_blend_ps(
          (__mmask16)0xFF00, _mm512_permutex2var_ps(a0, pick[j], a1), _mm512_permutex2var_ps(b0, pick[j], b1));
      }
    }
    // Bᵀ d down each column, then along each row: input_tiles' operations.
    __m512 v[16];
    __m512 t[4][4];
    for (int j = 0; j < 4; j++) {
      t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
      t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
      t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
      t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
    }
    for (int i = 0; i < 4; i++) {
      v[4 * i + 0] = _mm512_sub_ps(t[i][0], t[i][2]);
      v[4 * i + 1] = _mm512_add_ps(t[i][1], t[i][2]);
      v[4 * i + 2] = _mm512_sub_ps(t[i][2], t[i][1]);
      v[4 * i + 3] = _mm512_sub_ps(t[i][1], t[i][3]);
    }
    store_tile_vectors(v, 16, count, first + r * tiles, out, stride, nr, strip);
  }
}
#endif

void ccnn_winograd_input_rows(
  const float *rows, long len, long tile_rows, long tiles, float *out, long stride, long first, long nr, long strip) {
#if defined(__x86_64__)
  if (tiles == 4 && len == 10 && ccnn_isa() == CCNN_ISA_AVX512) {
    input_rows_four_avx512(rows, tile_rows, out, stride, first, nr, strip);
    return;
  }
  if (tiles <= 7 && len <= 16 && ccnn_isa() == CCNN_ISA_AVX512) {
    input_rows_short_avx512(rows, len, tile_rows, tiles, out, stride, first, nr, strip);
    return;
  }
#endif
  DISPATCH(input_rows, (rows, len, tile_rows, tiles, out, stride, first, nr, strip))
}

void ccnn_winograd_input_planes(
  const float *planes, long plane_size, long channels, long height, long width, long pad_top, long pad_left, long ty0,
  long tile_rows, float *rows, long len, long tiles, float *out, long channel_step, long stride, long first, long nr,
  long strip) {
  input_planes(
    planes, plane_size, channels, height, width, pad_top, pad_left, ty0, tile_rows, 2, 2, rows, len, tiles, out,
    channel_step, stride, first, nr, strip, ccnn_winograd_input_rows);
}

void ccnn_winograd_gradient_planes(
  const float *planes, long plane_size, long channels, long height, long width, long ty0, long tile_rows,
  float *rows, long len, long tiles, float *out, long channel_step, long stride) {
  gradient_planes(
    planes, plane_size, channels, height, width, ty0, tile_rows, 2, rows, len, tiles, out, channel_step, stride,
    ccnn_winograd_gradient_rows);
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

void ccnn_winograd_filters_isa(
  int isa, const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u) {
  DISPATCH_ISA(filters, isa, (weight, outputs, inputs, flipped, mr, o0, o1, u))
}

void ccnn_winograd_filters(
  const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u) {
  ccnn_winograd_filters_isa(ccnn_isa(), weight, outputs, inputs, flipped, mr, o0, o1, u);
}

void ccnn_winograd_filter_gradients(const float *du, long pairs, long p0, long p1, float *dg) {
  DISPATCH(filter_gradients, (du, pairs, p0, p1, dg))
}
