// AVX-512 SGEMM micro-kernel: a 14 × 32 tile of C held in 28 zmm registers.
//
// Per step p of the reduction: load one 32-wide row of the B micro-panel (two zmm),
// broadcast each of the 14 A values of column p, and do 28 FMAs. 28 accumulators + 2 B
// registers + 1 broadcast = 31 of the 32 zmm registers. Two FMA ports need at least
// 2 × 4 (latency) = 8 independent accumulators; 28 hides the latency with room to spare,
// and the 16 loads per 28 FMAs stay under the two load ports' budget.
#include "CCNNKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 14
#define NR 32

#define TARGET __attribute__((target("avx512f,fma")))

// Accumulators for row i: ci0 (columns 0..<16) and ci1 (16..<32).
#define DECLARE(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
#define UPDATE(i)                                \
  {                                              \
    const __m512 ai = _mm512_set1_ps(a[i]);      \
    c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);  \
    c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);  \
  }
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

// Row i of C, beta == 0: C = alpha · acc (C is not read).
#define STORE0(i)                                                          \
  if (i < m) {                                                             \
    float *ci = c + (i) * ldc;                                             \
    _mm512_mask_storeu_ps(ci, mask0, _mm512_mul_ps(va, c##i##0));          \
    _mm512_mask_storeu_ps(ci + 16, mask1, _mm512_mul_ps(va, c##i##1));     \
  }
// Row i of C, general beta: C = alpha · acc + beta · C.
#define STOREB(i)                                                                      \
  if (i < m) {                                                                         \
    float *ci = c + (i) * ldc;                                                         \
    const __m512 old0 = _mm512_maskz_loadu_ps(mask0, ci);                              \
    const __m512 old1 = _mm512_maskz_loadu_ps(mask1, ci + 16);                         \
    _mm512_mask_storeu_ps(ci, mask0, _mm512_fmadd_ps(vb, old0, _mm512_mul_ps(va, c##i##0)));     \
    _mm512_mask_storeu_ps(ci + 16, mask1, _mm512_fmadd_ps(vb, old1, _mm512_mul_ps(va, c##i##1))); \
  }
#define PREFETCH_C(i)                                         \
  if (i < m) {                                                \
    _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T0);      \
    _mm_prefetch((const char *)(c + (i) * ldc + 31), _MM_HINT_T0); \
  }

// The kernel for the rows listed by FOR: the same steps for each row of C as the full 14-row
// tile, so a row's result does not depend on which kernel computed it. Not inlined, so that
// each keeps its accumulators in registers (see sgemm_avx2.c).
#define KERNEL(name, FOR)                                                                 \
  TARGET __attribute__((noinline)) static void name(                                      \
    long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc, \
    long m, long n, float alpha, float beta) {                                            \
    FOR(DECLARE)                                                                          \
    FOR(PREFETCH_C)                                                                       \
    _Pragma("clang loop unroll_count(4)")                                                 \
    for (long p = 0; p < kc; p++) {                                                       \
      const __m512 b0 = _mm512_loadu_ps(b);                                               \
      const __m512 b1 = _mm512_loadu_ps(b + 16);                                          \
      FOR(UPDATE)                                                                         \
      a += MR;                                                                            \
      b += NR;                                                                            \
    }                                                                                     \
    /* Column masks for a partial tile (n < 32); all ones for a full one. */             \
    const __mmask16 mask0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);    \
    const __mmask16 mask1 = n >= 32 ? (__mmask16)0xFFFF                                   \
                          : n <= 16 ? (__mmask16)0 : (__mmask16)((1u << (n - 16)) - 1);   \
    const __m512 va = _mm512_set1_ps(alpha);                                              \
    if (beta == 0.0f) {                                                                   \
      FOR(STORE0)                                                                         \
    } else {                                                                              \
      const __m512 vb = _mm512_set1_ps(beta);                                             \
      FOR(STOREB)                                                                         \
    }                                                                                     \
  }

#define FOR_8_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FOR_4_ROWS(X) X(0) X(1) X(2) X(3)

KERNEL(rows14, FOR_ROWS)
KERNEL(rows8, FOR_8_ROWS)
KERNEL(rows4, FOR_4_ROWS)

// A partial panel of at most 8 or 4 rows (the last of 30 filters, of a batch of 50 or 100, of
// 32 or 64 Winograd outputs) runs only those rows' FMAs instead of all 14; the A panel keeps
// its MR = 14 stride. SimpleConvNet's 30 filters took 3 × 14 rows of FMAs, now 14 + 14 + 4.
TARGET void ccnn_sgemm_avx512_14x32(
  long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
  long m, long n, float alpha, float beta) {
  if (m <= 4) rows4(kc, a, b, c, ldc, m, n, alpha, beta);
  else if (m <= 8) rows8(kc, a, b, c, ldc, m, n, alpha, beta);
  else rows14(kc, a, b, c, ldc, m, n, alpha, beta);
}

#endif
