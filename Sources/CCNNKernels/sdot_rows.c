// Dot products of 1 to 4 rows with one vector: the inner loop of `gemmFewRows` (a batch of
// 1–4 images through a dense layer, where the weight matrix is streamed once from memory).
//
//   out[i] = Σ_p x[i·ldx + p] · y[p]   for i < m, p < k
//
// Each loaded run of y is used by every row, and each row keeps two accumulators (one per
// 16 or 8 floats of a 32- or 16-float step), so 2–8 independent FMA chains cover the FMA
// latency while the loads stream. The lanes are added at the end.
#include "CCNNKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

AVX512 static inline __attribute__((always_inline)) void dot_rows_avx512(
  long k, long m, const float *restrict x, long ldx, const float *restrict y, float *restrict out) {
  __m512 acc[4][2];
  for (long i = 0; i < m; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  long p = 0;
  for (; p + 32 <= k; p += 32) {
    const __m512 y0 = _mm512_loadu_ps(y + p), y1 = _mm512_loadu_ps(y + p + 16);
    for (long i = 0; i < m; i++) {
      acc[i][0] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i * ldx + p), y0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i * ldx + p + 16), y1, acc[i][1]);
    }
  }
  for (; p < k; p += 16) {
    const long left = k - p;
    const __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    const __m512 y0 = _mm512_maskz_loadu_ps(mask, y + p);
    for (long i = 0; i < m; i++) {
      acc[i][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + i * ldx + p), y0, acc[i][0]);
    }
  }
  for (long i = 0; i < m; i++) out[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]));
}

AVX512 void ccnn_sdot_rows_avx512(long k, long m, const float *x, long ldx, const float *y, float *out) {
  // A constant row count per call site, so the compiler unrolls the row loops into registers.
  switch (m) {
  case 1: dot_rows_avx512(k, 1, x, ldx, y, out); break;
  case 2: dot_rows_avx512(k, 2, x, ldx, y, out); break;
  case 3: dot_rows_avx512(k, 3, x, ldx, y, out); break;
  default: dot_rows_avx512(k, 4, x, ldx, y, out); break;
  }
}

/// The sum of the 8 lanes of `v`.
AVX2 static inline float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

AVX2 static inline __attribute__((always_inline)) void dot_rows_avx2(
  long k, long m, const float *restrict x, long ldx, const float *restrict y, float *restrict out) {
  __m256 acc[4][2];
  for (long i = 0; i < m; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  long p = 0;
  for (; p + 16 <= k; p += 16) {
    const __m256 y0 = _mm256_loadu_ps(y + p), y1 = _mm256_loadu_ps(y + p + 8);
    for (long i = 0; i < m; i++) {
      acc[i][0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i * ldx + p), y0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i * ldx + p + 8), y1, acc[i][1]);
    }
  }
  for (long i = 0; i < m; i++) {
    float sum = sum8(_mm256_add_ps(acc[i][0], acc[i][1]));
    for (long q = p; q < k; q++) sum += x[i * ldx + q] * y[q];
    out[i] = sum;
  }
}

AVX2 void ccnn_sdot_rows_avx2(long k, long m, const float *x, long ldx, const float *y, float *out) {
  switch (m) {
  case 1: dot_rows_avx2(k, 1, x, ldx, y, out); break;
  case 2: dot_rows_avx2(k, 2, x, ldx, y, out); break;
  case 3: dot_rows_avx2(k, 3, x, ldx, y, out); break;
  default: dot_rows_avx2(k, 4, x, ldx, y, out); break;
  }
}

#endif
