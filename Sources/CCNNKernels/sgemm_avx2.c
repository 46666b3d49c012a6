// AVX2 + FMA SGEMM micro-kernel: a 6 × 16 tile of C held in 12 ymm registers.
//
// Per step p: load one 16-wide row of the B micro-panel (two ymm), broadcast each of the
// 6 A values, do 12 FMAs. 12 accumulators + 2 B + 1 broadcast = 15 of the 16 ymm
// registers; 12 independent chains cover 2 FMA ports × 4-5 cycles latency.
#include "CCNNKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 6
#define NR 16

#define TARGET __attribute__((target("avx2,fma")))

#define DECLARE(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
#define UPDATE(i)                                \
  {                                              \
    const __m256 ai = _mm256_broadcast_ss(a + i); \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);  \
    c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);  \
  }
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

#define STORE0(i)                                                      \
  {                                                                    \
    float *ci = c + (i) * ldc;                                         \
    _mm256_storeu_ps(ci, _mm256_mul_ps(va, c##i##0));                  \
    _mm256_storeu_ps(ci + 8, _mm256_mul_ps(va, c##i##1));              \
  }
#define STOREB(i)                                                            \
  {                                                                          \
    float *ci = c + (i) * ldc;                                               \
    const __m256 old0 = _mm256_loadu_ps(ci), old1 = _mm256_loadu_ps(ci + 8); \
    _mm256_storeu_ps(ci, _mm256_fmadd_ps(vb, old0, _mm256_mul_ps(va, c##i##0)));     \
    _mm256_storeu_ps(ci + 8, _mm256_fmadd_ps(vb, old1, _mm256_mul_ps(va, c##i##1))); \
  }
// C's tile rows fetched into L1 while the steps run (rows ldc apart often share L1 sets).
#define PREFETCH_C(i)                                    \
  _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T0); \
  _mm_prefetch((const char *)(c + (i) * ldc + NR - 1), _MM_HINT_T0);
#define SPILL(i)                                  \
  _mm256_storeu_ps(tile + (i) * NR, c##i##0);     \
  _mm256_storeu_ps(tile + (i) * NR + 8, c##i##1);

// The kernel for the rows listed by FOR (all MR, or the first three): the same steps for each
// row of C, so a row's result does not depend on which kernel computed it. Not inlined: in one
// function with the other, clang spilled an accumulator of the 6-row loop to the stack, and
// the kernel's share of a SimpleConvNet run went from 35 % to 58 %.
#define KERNEL(name, FOR)                                                                   \
  TARGET __attribute__((noinline)) static void name(                                        \
    long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,   \
    long m, long n, float alpha, float beta) {                                              \
    FOR(DECLARE)                                                                            \
    FOR(PREFETCH_C)                                                                         \
    _Pragma("clang loop unroll_count(4)")                                                   \
    for (long p = 0; p < kc; p++) {                                                         \
      const __m256 b0 = _mm256_loadu_ps(b);                                                 \
      const __m256 b1 = _mm256_loadu_ps(b + 8);                                             \
      FOR(UPDATE)                                                                           \
      a += MR;                                                                              \
      b += NR;                                                                              \
    }                                                                                       \
    const __m256 va = _mm256_set1_ps(alpha);                                                \
    if (m == MR && n == NR) {                                                               \
      if (beta == 0.0f) {                                                                   \
        FOR(STORE0)                                                                         \
      } else {                                                                              \
        const __m256 vb = _mm256_set1_ps(beta);                                             \
        FOR(STOREB)                                                                         \
      }                                                                                     \
      return;                                                                               \
    }                                                                                       \
    /* Partial tile: spill the accumulators, then update the m × n corner one by one. */   \
    float tile[MR * NR];                                                                    \
    FOR(SPILL)                                                                              \
    for (long i = 0; i < m; i++) {                                                          \
      for (long j = 0; j < n; j++) {                                                        \
        const float v = alpha * tile[i * NR + j];                                           \
        c[i * ldc + j] = beta == 0.0f ? v : v + beta * c[i * ldc + j];                      \
      }                                                                                     \
    }                                                                                       \
  }

#define FOR_3_ROWS(X) X(0) X(1) X(2)

KERNEL(rows6, FOR_ROWS)
KERNEL(rows3, FOR_3_ROWS)

// A partial panel of at most 3 rows runs only those rows' FMAs (see sgemm_avx512.c).
TARGET void ccnn_sgemm_avx2_6x16(
  long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
  long m, long n, float alpha, float beta) {
  if (m <= 3) rows3(kc, a, b, c, ldc, m, n, alpha, beta);
  else rows6(kc, a, b, c, ldc, m, n, alpha, beta);
}

#endif
