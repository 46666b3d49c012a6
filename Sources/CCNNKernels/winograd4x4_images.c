// The F(4×4, 3×3) transforms of whole images (winograd4x4.c has the per-channel ones and the
// filters'), for square 4×4 and 8×8 maps: input, output-gradient and output transforms with
// the images in the vector lanes, 16 with AVX-512, 8 with AVX2.
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

// The same with AVX2, eight images to a vector (8 × 8 transposes; tiles stored as in
// store_tile_lanes_256).
#define AVX2 __attribute__((target("avx2,fma")))

// The 8 × 8 transpose of rows[0 ..< 8]: pairs of rows interleaved, then pairs of pairs, then
// the 128-bit halves exchanged.
AVX2 static inline void transpose8(__m256 rows[8]) {
  __m256 a[8], b[8];
  for (int i = 0; i < 8; i += 2) {
    a[i] = _mm256_unpacklo_ps(rows[i], rows[i + 1]);
    a[i + 1] = _mm256_unpackhi_ps(rows[i], rows[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    b[i] = _mm256_shuffle_ps(a[i], a[i + 2], 0x44);
    b[i + 1] = _mm256_shuffle_ps(a[i], a[i + 2], 0xEE);
    b[i + 2] = _mm256_shuffle_ps(a[i + 1], a[i + 3], 0x44);
    b[i + 3] = _mm256_shuffle_ps(a[i + 1], a[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    rows[i] = _mm256_permute2f128_ps(b[i], b[i + 4], 0x20);
    rows[i + 4] = _mm256_permute2f128_ps(b[i], b[i + 4], 0x31);
  }
}

// load_planes with eight images: pixel p of image j in lane j of px[p] (lanes past count zero).
AVX2 static inline void load_planes_256(
  const float *const *images, long offset, long pixels, long count, __m256 px[64]) {
  for (long g = 0; g < pixels; g += 8) {
    for (long j = 0; j < 8; j++) px[g + j] = j < count ? _mm256_loadu_ps(images[j] + offset + g) : _mm256_setzero_ps();
    transpose8(px + g);
  }
}

AVX2 static void input_images_avx2(
  const float *const *images, long count, long size, long channels, long pad_top, long pad_left, float *out,
  long channel_step, long stride, long first, long nr, long strip) {
  const long pixels = size * size, tiles = size / 4;
  for (long j0 = 0; j0 < count; j0 += 8) {
    const long here = MIN(8, count - j0);
    for (long c = 0; c < channels; c++) {
      __m256 px[64];
      load_planes_256(images + j0, c * pixels, pixels, here, px);
      for (long ty = 0; ty < tiles; ty++) {
        for (long tx = 0; tx < tiles; tx++) {
          // Bᵀ d down each column j, then along each row i (the order of bt6 in input_tiles).
          __m256 t[6][6];
          for (int j = 0; j < 6; j++) {
            __m256 column[6], e[6];
            for (int i = 0; i < 6; i++) {
              const long y = 4 * ty + i - pad_top, x = 4 * tx + j - pad_left;
              column[i] = y >= 0 && y < size && x >= 0 && x < size ? px[y * size + x] : _mm256_setzero_ps();
            }
            bt6_256(column, e);
            for (int i = 0; i < 6; i++) t[i][j] = e[i];
          }
          const long q = first + (ty * tiles + tx) * count + j0;
          for (int i = 0; i < 6; i++) {
            __m256 v[6];
            bt6_256(t[i], v);
            store_tile_lanes_256(v, 6, 0, here, q, out + c * channel_step + 6 * i * stride, stride, nr, strip);
          }
        }
      }
    }
  }
}

// a4 and at4 on vectors of eight.
AVX2 static inline void a4_256(const __m256 y[4], __m256 u[6]) {
  const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), eight = _mm256_set1_ps(8);
  const __m256 even = _mm256_add_ps(y[0], y[2]), odd = _mm256_add_ps(y[1], y[3]);
  const __m256 even4 = _mm256_fmadd_ps(four, y[2], y[0]), odd4 = _mm256_fmadd_ps(eight, y[3], _mm256_mul_ps(two, y[1]));
  u[0] = y[0];
  u[1] = _mm256_add_ps(even, odd);
  u[2] = _mm256_sub_ps(even, odd);
  u[3] = _mm256_add_ps(even4, odd4);
  u[4] = _mm256_sub_ps(even4, odd4);
  u[5] = y[3];
}

AVX2 static inline void at4_256(const __m256 m[6], __m256 o[4]) {
  const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), eight = _mm256_set1_ps(8);
  const __m256 s12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
  const __m256 s34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
  o[0] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
  o[1] = _mm256_fmadd_ps(two, d34, d12);
  o[2] = _mm256_fmadd_ps(four, s34, s12);
  o[3] = _mm256_add_ps(_mm256_fmadd_ps(eight, d34, d12), m[5]);
}

AVX2 static void gradient_images_avx2(
  const float *const *images, long count, long size, long channels, float *out, long channel_step, long stride,
  long first) {
  const long pixels = size * size, tiles = size / 4;
  for (long j0 = 0; j0 < count; j0 += 8) {
    const long here = MIN(8, count - j0);
    for (long k = 0; k < channels; k++) {
      __m256 px[64];
      load_planes_256(images + j0, k * pixels, pixels, here, px);
      for (long ty = 0; ty < tiles; ty++) {
        for (long tx = 0; tx < tiles; tx++) {
          // A dY down each column b, then A along each row i.
          __m256 u[6][4];
          for (int b = 0; b < 4; b++) {
            const __m256 *y = px + 4 * ty * size + 4 * tx + b;
            const __m256 column[4] = {y[0], y[size], y[2 * size], y[3 * size]};
            __m256 e[6];
            a4_256(column, e);
            for (int i = 0; i < 6; i++) u[i][b] = e[i];
          }
          const long q = first + (ty * tiles + tx) * count + j0;
          for (int i = 0; i < 6; i++) {
            __m256 w[6];
            a4_256(u[i], w);
            store_tile_lanes_256(w, 6, 0, here, q, out + k * channel_step + 6 * i * stride, stride, 0, 0);
          }
        }
      }
    }
  }
}

AVX2 static void output_images_avx2(
  const float *m, long stride, long ldm, long rows, long count, long size, const float *bias, float *out,
  long image_stride) {
  const long pixels = size * size, tiles = size / 4;
  for (long j0 = 0; j0 < count; j0 += 8) {
    const long here = MIN(8, count - j0);
    const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)here), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (long r = 0; r < rows; r++) {
      const __m256 b = _mm256_set1_ps(bias ? bias[r] : 0);
      __m256 px[64];
      for (long ty = 0; ty < tiles; ty++) {
        for (long tx = 0; tx < tiles; tx++) {
          const float *mc = m + r * ldm + (ty * tiles + tx) * count + j0;
          // Aᵀ M down each column j, then along each row a.
          __m256 s[4][6];
          for (int j = 0; j < 6; j++) {
            __m256 column[6], e[4];
            for (int i = 0; i < 6; i++) {
              const float *from = mc + (6 * i + j) * stride;
              column[i] = here == 8 ? _mm256_loadu_ps(from) : _mm256_maskload_ps(from, lanes);
            }
            at4_256(column, e);
            for (int a = 0; a < 4; a++) s[a][j] = e[a];
          }
          for (int a = 0; a < 4; a++) {
            __m256 y[4];
            at4_256(s[a], y);
            for (int c = 0; c < 4; c++) px[(4 * ty + a) * size + 4 * tx + c] = _mm256_add_ps(y[c], b);
          }
        }
      }
      for (long g = 0; g < pixels; g += 8) {
        transpose8(px + g);
        for (long j = 0; j < here; j++) _mm256_storeu_ps(out + (j0 + j) * image_stride + r * pixels + g, px[g + j]);
      }
    }
  }
}
#endif

// The widest of `isa` and what the CPU runs, when it has whole-image transforms (AVX-512 or
// AVX2), else 0.
static int images_isa(int isa) {
#if defined(__x86_64__)
  const int effective = isa < ccnn_isa() ? isa : ccnn_isa();
  return effective >= CCNN_ISA_AVX2 ? effective : 0;
#else
  (void)isa;
  return 0;
#endif
}

int ccnn_winograd4_images_supported(void) { return images_isa(ccnn_isa()) != 0; }

void ccnn_winograd4_input_images_isa(
  int isa, const float *const *images, long count, long size, long channels, long pad_top, long pad_left, float *out,
  long channel_step, long stride, long first, long nr, long strip) {
#if defined(__x86_64__)
  if (size == 4 || size == 8) {
    switch (images_isa(isa)) {
    case CCNN_ISA_AVX512:
      input_images_avx512(images, count, size, channels, pad_top, pad_left, out, channel_step, stride, first, nr, strip);
      return;
    case CCNN_ISA_AVX2:
      input_images_avx2(images, count, size, channels, pad_top, pad_left, out, channel_step, stride, first, nr, strip);
      return;
    }
  }
#endif
  abort();
}

void ccnn_winograd4_input_images(
  const float *const *images, long count, long size, long channels, long pad_top, long pad_left, float *out,
  long channel_step, long stride, long first, long nr, long strip) {
  ccnn_winograd4_input_images_isa(
    ccnn_isa(), images, count, size, channels, pad_top, pad_left, out, channel_step, stride, first, nr, strip);
}

void ccnn_winograd4_gradient_images_isa(
  int isa, const float *const *images, long count, long size, long channels, float *out, long channel_step,
  long stride, long first) {
#if defined(__x86_64__)
  if (size == 4 || size == 8) {
    switch (images_isa(isa)) {
    case CCNN_ISA_AVX512:
      gradient_images_avx512(images, count, size, channels, out, channel_step, stride, first);
      return;
    case CCNN_ISA_AVX2:
      gradient_images_avx2(images, count, size, channels, out, channel_step, stride, first);
      return;
    }
  }
#endif
  abort();
}

void ccnn_winograd4_gradient_images(
  const float *const *images, long count, long size, long channels, float *out, long channel_step, long stride,
  long first) {
  ccnn_winograd4_gradient_images_isa(ccnn_isa(), images, count, size, channels, out, channel_step, stride, first);
}

void ccnn_winograd4_output_images_isa(
  int isa, const float *m, long stride, long ldm, long rows, long count, long size, const float *bias, float *out,
  long image_stride) {
#if defined(__x86_64__)
  if (size == 4 || size == 8) {
    switch (images_isa(isa)) {
    case CCNN_ISA_AVX512:
      output_images_avx512(m, stride, ldm, rows, count, size, bias, out, image_stride);
      return;
    case CCNN_ISA_AVX2:
      output_images_avx2(m, stride, ldm, rows, count, size, bias, out, image_stride);
      return;
    }
  }
#endif
  abort();
}

void ccnn_winograd4_output_images(
  const float *m, long stride, long ldm, long rows, long count, long size, const float *bias, float *out,
  long image_stride) {
  ccnn_winograd4_output_images_isa(ccnn_isa(), m, stride, ldm, rows, count, size, bias, out, image_stride);
}
