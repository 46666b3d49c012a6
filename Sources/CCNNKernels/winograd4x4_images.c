// The F(4×4, 3×3) transforms of whole images (winograd4x4.c has the per-channel ones and the
// filters'), for square 4×4 and 8×8 maps with AVX-512: input, output-gradient and output
// transforms with 16 images in the vector lanes.
#include "winograd_tiles.h"

#include <stdlib.h>

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512vl")))

// Square maps of 4 or 8 (ResNet-18's stages on 32×32 images): one or four tiles per image and
// channel, so the per-channel transforms ran a tile or two at a time, scalar, with a call per
// channel (the input transform alone was 17 % of a 4×4-map forward and backward pass);
// gathering 16 channels into the lanes spent as much in the gathers and scatters. Here the
// lanes are 16 images: each image's plane of a channel is one or four vectors, the planes of
// 16 images are transposed 16 × 16 at a time so that each vector holds one pixel of the 16
// images, the tiles are transformed with vector arithmetic, and the results go out as whole
// vectors. The block's tiles are ordered tile-major: tile (ty, tx) of image j is
// q = first + (ty·T + tx)·count + j (T = size / 4 tiles a row), so that 16 images' tile is 16
// consecutive places.

// The 16 × 16 transpose of rows[0 ..< 16]: four stages, the stage of distance d = 2^b swapping
// bit b of the row and column indices (rows i and i + d exchange their halves).
AVX512 static inline void transpose16(__m512 rows[16]) {
  for (int d = 8; d >= 1; d /= 2) {
    int low[16], high[16];
    for (int j = 0; j < 16; j++) {
      low[j] = j & d ? 16 + j - d : j;
      high[j] = j & d ? 16 + j : j + d;
    }
    const __m512i pick_low = _mm512_loadu_si512(low), pick_high = _mm512_loadu_si512(high);
    for (int i = 0; i < 16; i++) {
      if (i & d) continue;
      const __m512 a = rows[i], b = rows[i + d];
      rows[i] = _mm512_permutex2var_ps(a, pick_low, b);
      rows[i + d] = _mm512_permutex2var_ps(a, pick_high, b);
    }
  }
}

// The `pixels` ≤ 64-pixel planes of one channel of `count` ≤ 16 images (`images[j] + offset`),
// transposed: pixel p of image j in lane j of px[p] (lanes past count zero).
AVX512 static inline void load_planes(
  const float *const *images, long offset, long pixels, long count, __m512 px[64]) {
  for (long g = 0; g < pixels; g += 16) {
    for (long j = 0; j < 16; j++) px[g + j] = j < count ? _mm512_loadu_ps(images[j] + offset + g) : _mm512_setzero_ps();
    transpose16(px + g);
  }
}

AVX512 static void input_images_avx512(
  const float *const *images, long count, long size, long channels, long pad_top, long pad_left, float *out,
  long channel_step, long stride, long first, long nr, long strip) {
  const long pixels = size * size, tiles = size / 4;
  for (long j0 = 0; j0 < count; j0 += 16) {
    const long here = MIN(16, count - j0);
    for (long c = 0; c < channels; c++) {
      __m512 px[64];
      load_planes(images + j0, c * pixels, pixels, here, px);
      for (long ty = 0; ty < tiles; ty++) {
        for (long tx = 0; tx < tiles; tx++) {
          __m512 d[6][6];
          for (long i = 0; i < 6; i++) {
            for (long j = 0; j < 6; j++) {
              const long y = 4 * ty + i - pad_top, x = 4 * tx + j - pad_left;
              d[i][j] = y >= 0 && y < size && x >= 0 && x < size ? px[y * size + x] : _mm512_setzero_ps();
            }
          }
          __m512 t[6][6], v[36];
          for (int j = 0; j < 6; j++) {
            const __m512 column[6] = {d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]};
            __m512 e[6];
            bt6_512(column, e);
            for (int i = 0; i < 6; i++) t[i][j] = e[i];
          }
          for (int i = 0; i < 6; i++) bt6_512(t[i], v + 6 * i);
          const long q = first + (ty * tiles + tx) * count + j0;
          store_tile_vectors(v, 36, here, q, out + c * channel_step, stride, nr, strip);
        }
      }
    }
  }
}

// u = A y (a4) on vectors.
AVX512 static inline void a4_512(const __m512 y[4], __m512 u[6]) {
  const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
  const __m512 even = _mm512_add_ps(y[0], y[2]), odd = _mm512_add_ps(y[1], y[3]);
  const __m512 even4 = _mm512_fmadd_ps(four, y[2], y[0]), odd4 = _mm512_fmadd_ps(eight, y[3], _mm512_mul_ps(two, y[1]));
  u[0] = y[0];
  u[1] = _mm512_add_ps(even, odd);
  u[2] = _mm512_sub_ps(even, odd);
  u[3] = _mm512_add_ps(even4, odd4);
  u[4] = _mm512_sub_ps(even4, odd4);
  u[5] = y[3];
}

// o = Aᵀ m (at4) on vectors.
AVX512 static inline void at4_512(const __m512 m[6], __m512 o[4]) {
  const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
  const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
  const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
  o[1] = _mm512_fmadd_ps(two, d34, d12);
  o[2] = _mm512_fmadd_ps(four, s34, s12);
  o[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), m[5]);
}

AVX512 static void gradient_images_avx512(
  const float *const *images, long count, long size, long channels, float *out, long channel_step, long stride,
  long first) {
  const long pixels = size * size, tiles = size / 4;
  for (long j0 = 0; j0 < count; j0 += 16) {
    const long here = MIN(16, count - j0);
    for (long k = 0; k < channels; k++) {
      __m512 px[64];
      load_planes(images + j0, k * pixels, pixels, here, px);
      for (long ty = 0; ty < tiles; ty++) {
        for (long tx = 0; tx < tiles; tx++) {
          // A dY down each column b, then A along each row i.
          __m512 u[6][4], w[36];
          for (int b = 0; b < 4; b++) {
            const __m512 *y = px + 4 * ty * size + 4 * tx + b;
            const __m512 column[4] = {y[0], y[size], y[2 * size], y[3 * size]};
            __m512 e[6];
            a4_512(column, e);
            for (int i = 0; i < 6; i++) u[i][b] = e[i];
          }
          for (int i = 0; i < 6; i++) a4_512(u[i], w + 6 * i);
          const long q = first + (ty * tiles + tx) * count + j0;
          store_tile_vectors(w, 36, here, q, out + k * channel_step, stride, 0, 0);
        }
      }
    }
  }
}

AVX512 static void output_images_avx512(
  const float *m, long stride, long ldm, long rows, long count, long size, const float *bias, float *out,
  long image_stride) {
  const long pixels = size * size, tiles = size / 4;
  for (long j0 = 0; j0 < count; j0 += 16) {
    const long here = MIN(16, count - j0);
    const __mmask16 lanes = (__mmask16)((1u << here) - 1);
    for (long r = 0; r < rows; r++) {
      const __m512 b = _mm512_set1_ps(bias ? bias[r] : 0);
      __m512 px[64];
      for (long ty = 0; ty < tiles; ty++) {
        for (long tx = 0; tx < tiles; tx++) {
          const float *mc = m + r * ldm + (ty * tiles + tx) * count + j0;
          __m512 mv[36];
          for (int xi = 0; xi < 36; xi++) mv[xi] = _mm512_maskz_loadu_ps(lanes, mc + xi * stride);
          // Aᵀ M down each column j, then along each row a.
          __m512 s[4][6];
          for (int j = 0; j < 6; j++) {
            const __m512 column[6] = {mv[j], mv[6 + j], mv[12 + j], mv[18 + j], mv[24 + j], mv[30 + j]};
            __m512 e[4];
            at4_512(column, e);
            for (int a = 0; a < 4; a++) s[a][j] = e[a];
          }
          for (int a = 0; a < 4; a++) {
            __m512 y[4];
            at4_512(s[a], y);
            for (int c = 0; c < 4; c++) px[(4 * ty + a) * size + 4 * tx + c] = _mm512_add_ps(y[c], b);
          }
        }
      }
      for (long g = 0; g < pixels; g += 16) {
        transpose16(px + g);
        for (long j = 0; j < here; j++) _mm512_storeu_ps(out + (j0 + j) * image_stride + r * pixels + g, px[g + j]);
      }
    }
  }
}
#endif

int ccnn_winograd4_images_supported(void) {
#if defined(__x86_64__)
  return ccnn_isa() == CCNN_ISA_AVX512;
#else
  return 0;
#endif
}

void ccnn_winograd4_input_images(
  const float *const *images, long count, long size, long channels, long pad_top, long pad_left, float *out,
  long channel_step, long stride, long first, long nr, long strip) {
#if defined(__x86_64__)
  if (ccnn_winograd4_images_supported() && (size == 4 || size == 8)) {
    input_images_avx512(images, count, size, channels, pad_top, pad_left, out, channel_step, stride, first, nr, strip);
    return;
  }
#endif
  abort();
}

void ccnn_winograd4_gradient_images(
  const float *const *images, long count, long size, long channels, float *out, long channel_step, long stride,
  long first) {
#if defined(__x86_64__)
  if (ccnn_winograd4_images_supported() && (size == 4 || size == 8)) {
    gradient_images_avx512(images, count, size, channels, out, channel_step, stride, first);
    return;
  }
#endif
  abort();
}

void ccnn_winograd4_output_images(
  const float *m, long stride, long ldm, long rows, long count, long size, const float *bias, float *out,
  long image_stride) {
#if defined(__x86_64__)
  if (ccnn_winograd4_images_supported() && (size == 4 || size == 8)) {
    output_images_avx512(m, stride, ldm, rows, count, size, bias, out, image_stride);
    return;
  }
#endif
  abort();
}
