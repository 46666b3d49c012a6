// Dot products of 1 to 4 rows of A with 1 to 4 rows of B: the inner loop of `gemmFewRows`
// (a batch of 1–4 images through a dense layer, whose weight matrix B, stored [out, in], is
// streamed once from memory).
//
//   out[i·4 + j] = Σ_p a[i·lda + p] · b[j·ldb + p]   for i < m, j < n, p < k
//
// Reading n rows of B at once keeps n memory streams in flight (one stream alone reached
// 7.8 GB/s on one core of the Xeon, four 13), and each loaded run of B serves all m rows of
// A. One accumulator per (i, j): m·n independent FMA chains; the lanes are added at the end.
#include "CCNNKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,fma")))
#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

AVX512 INLINE void block_avx512(
  long k, long m, long n, const float *restrict a, long lda, const float *restrict b, long ldb,
  float *restrict out) {
  __m512 acc[4][4];
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) acc[i][j] = _mm512_setzero_ps();
  long p = 0;
  for (; p + 16 <= k; p += 16) {
    __m512 bv[4];
    for (long j = 0; j < n; j++) bv[j] = _mm512_loadu_ps(b + j * ldb + p);
    for (long i = 0; i < m; i++) {
      const __m512 av = _mm512_loadu_ps(a + i * lda + p);
      for (long j = 0; j < n; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  if (p < k) {
    const __mmask16 mask = (__mmask16)((1u << (k - p)) - 1);
    __m512 bv[4];
    for (long j = 0; j < n; j++) bv[j] = _mm512_maskz_loadu_ps(mask, b + j * ldb + p);
    for (long i = 0; i < m; i++) {
      const __m512 av = _mm512_maskz_loadu_ps(mask, a + i * lda + p);
      for (long j = 0; j < n; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) out[i * 4 + j] = _mm512_reduce_add_ps(acc[i][j]);
}

/// The sum of the 8 lanes of `v`.
AVX2 INLINE float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

AVX2 INLINE void block_avx2(
  long k, long m, long n, const float *restrict a, long lda, const float *restrict b, long ldb,
  float *restrict out) {
  __m256 acc[4][4];
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) acc[i][j] = _mm256_setzero_ps();
  long p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 bv[4];
    for (long j = 0; j < n; j++) bv[j] = _mm256_loadu_ps(b + j * ldb + p);
    for (long i = 0; i < m; i++) {
      const __m256 av = _mm256_loadu_ps(a + i * lda + p);
      for (long j = 0; j < n; j++) acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) {
      float sum = sum8(acc[i][j]);
      for (long q = p; q < k; q++) sum += a[i * lda + q] * b[j * ldb + q];
      out[i * 4 + j] = sum;
    }
}

// One call site per (m, n), so that the loops over rows unroll into registers.
#define CASES(F)                                                                             \
  switch (m * 8 + n) {                                                                       \
  case 9: F(k, 1, 1, a, lda, b, ldb, out); break;   case 10: F(k, 1, 2, a, lda, b, ldb, out); break; \
  case 11: F(k, 1, 3, a, lda, b, ldb, out); break;  case 12: F(k, 1, 4, a, lda, b, ldb, out); break; \
  case 17: F(k, 2, 1, a, lda, b, ldb, out); break;  case 18: F(k, 2, 2, a, lda, b, ldb, out); break; \
  case 19: F(k, 2, 3, a, lda, b, ldb, out); break;  case 20: F(k, 2, 4, a, lda, b, ldb, out); break; \
  case 25: F(k, 3, 1, a, lda, b, ldb, out); break;  case 26: F(k, 3, 2, a, lda, b, ldb, out); break; \
  case 27: F(k, 3, 3, a, lda, b, ldb, out); break;  case 28: F(k, 3, 4, a, lda, b, ldb, out); break; \
  case 33: F(k, 4, 1, a, lda, b, ldb, out); break;  case 34: F(k, 4, 2, a, lda, b, ldb, out); break; \
  case 35: F(k, 4, 3, a, lda, b, ldb, out); break;  default: F(k, 4, 4, a, lda, b, ldb, out); break; \
  }

AVX512 void ccnn_sdot_block_avx512(
  long k, long m, const float *a, long lda, long n, const float *b, long ldb, float *out) {
  CASES(block_avx512)
}

AVX2 void ccnn_sdot_block_avx2(
  long k, long m, const float *a, long lda, long n, const float *b, long ldb, float *out) {
  CASES(block_avx2)
}

#endif
