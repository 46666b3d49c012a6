// Packing contiguous runs of floats as the columns of a GEMM panel strip (the transposing
// case of CNNKernels/GEMM+Packing.swift: rows of a row-major A into MR-wide strips, columns
// of a transposed B into NR-wide strips; and the im2col matrix of Im2ColTransposedOperand,
// whose columns start anywhere and whose rows are consecutive only along an output row),
// compiled for AVX-512, AVX2 and the baseline.
//
// Eight runs × eight values at a time are transposed in registers (unpack, two-float
// shuffles, then half swaps: the classic 8×8 transpose in 24 shuffles), then four runs × four
// values, then pairs of runs zipped; a last single run and the values past a multiple of four
// go one by one. Every float is copied, never computed, so the strip is the same whichever
// way it was written.
#include "dispatch.h"

#define INLINE static inline __attribute__((always_inline))

typedef float f8 __attribute__((ext_vector_type(8)));
typedef float f4 __attribute__((ext_vector_type(4)));
typedef float f2 __attribute__((ext_vector_type(2)));

// Loads through pointers rather than returning vectors, so that the baseline copy (no AVX)
// passes no eight-float vector by value.
INLINE void load8(const float *p, f8 *v) { __builtin_memcpy(v, p, sizeof *v); }

INLINE f4 load4(const float *p) {
  f4 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

// Rows r[0..<8] (eight values of eight runs) → column q stored at `dst + q·stride`.
INLINE void transpose8x8(const f8 r[8], float *dst, long stride) {
  f8 t[8], u[8];
  for (int k = 0; k < 4; k++) {
    t[2 * k] = __builtin_shufflevector(r[2 * k], r[2 * k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[2 * k + 1] = __builtin_shufflevector(r[2 * k], r[2 * k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  // u[0..<4] hold rows 0–3, u[4..<8] rows 4–7; u[q] and u[q + 4] carry columns q and q + 4.
  for (int h = 0; h < 2; h++) {
    const f8 *s = t + 4 * h;
    u[4 * h + 0] = __builtin_shufflevector(s[0], s[2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[4 * h + 1] = __builtin_shufflevector(s[0], s[2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[4 * h + 2] = __builtin_shufflevector(s[1], s[3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[4 * h + 3] = __builtin_shufflevector(s[1], s[3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int q = 0; q < 4; q++) {
    const f8 low = __builtin_shufflevector(u[q], u[q + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    const f8 high = __builtin_shufflevector(u[q], u[q + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    __builtin_memcpy(dst + q * stride, &low, sizeof low);
    __builtin_memcpy(dst + (q + 4) * stride, &high, sizeof high);
  }
}

// Rows a, b, c, d (four values of four runs) → column q stored at `dst + q·stride`.
INLINE void transpose4x4(f4 a, f4 b, f4 c, f4 d, float *dst, long stride) {
  const f4 ab0 = __builtin_shufflevector(a, b, 0, 4, 1, 5), ab1 = __builtin_shufflevector(a, b, 2, 6, 3, 7);
  const f4 cd0 = __builtin_shufflevector(c, d, 0, 4, 1, 5), cd1 = __builtin_shufflevector(c, d, 2, 6, 3, 7);
  const f4 col[4] = {
    __builtin_shufflevector(ab0, cd0, 0, 1, 4, 5), __builtin_shufflevector(ab0, cd0, 2, 3, 6, 7),
    __builtin_shufflevector(ab1, cd1, 0, 1, 4, 5), __builtin_shufflevector(ab1, cd1, 2, 3, 6, 7)};
  for (int q = 0; q < 4; q++) __builtin_memcpy(dst + q * stride, &col[q], sizeof col[q]);
}

// Values p ..< p + 4 of the four runs from `s` (`run_stride` apart) → four strip rows.
INLINE void transpose_four_runs(const float *s, long run_stride, long p, float *dst, long width) {
  transpose4x4(load4(s + p), load4(s + run_stride + p), load4(s + 2 * run_stride + p), load4(s + 3 * run_stride + p),
    dst, width);
}

INLINE void pack_runs_as_columns(
  const float *restrict source, long run_stride, long runs, long length, float *restrict strip, long width) {
  long i = 0;
  for (; i + 8 <= runs; i += 8) {
    const float *s = source + i * run_stride;
    long p = 0;
    for (; p + 8 <= length; p += 8) {
      f8 r[8];
      for (int k = 0; k < 8; k++) load8(s + k * run_stride + p, &r[k]);
      transpose8x8(r, strip + p * width + i, width);
    }
    for (; p + 4 <= length; p += 4) {
      transpose_four_runs(s, run_stride, p, strip + p * width + i, width);
      transpose_four_runs(s + 4 * run_stride, run_stride, p, strip + p * width + i + 4, width);
    }
    for (; p < length; p++) {
      for (int k = 0; k < 8; k++) strip[p * width + i + k] = s[k * run_stride + p];
    }
  }
  for (; i + 4 <= runs; i += 4) {
    const float *s = source + i * run_stride;
    long p = 0;
    for (; p + 4 <= length; p += 4) transpose_four_runs(s, run_stride, p, strip + p * width + i, width);
    for (; p < length; p++) {
      for (int k = 0; k < 4; k++) strip[p * width + i + k] = s[k * run_stride + p];
    }
  }
  for (; i + 2 <= runs; i += 2) {
    const float *s = source + i * run_stride;
    long p = 0;
    for (; p + 4 <= length; p += 4) {
      const f4 a = load4(s + p), b = load4(s + run_stride + p);
      const f2 pairs[4] = {
        __builtin_shufflevector(a, b, 0, 4), __builtin_shufflevector(a, b, 1, 5),
        __builtin_shufflevector(a, b, 2, 6), __builtin_shufflevector(a, b, 3, 7)};
      for (int q = 0; q < 4; q++) __builtin_memcpy(strip + (p + q) * width + i, &pairs[q], sizeof pairs[q]);
    }
    for (; p < length; p++) {
      strip[p * width + i] = s[p];
      strip[p * width + i + 1] = s[run_stride + p];
    }
  }
  for (; i < runs; i++) {
    const float *s = source + i * run_stride;
    for (long p = 0; p < length; p++) strip[p * width + i] = s[p];
  }
  if (runs < width) {
    for (long p = 0; p < length; p++) {
      for (long j = runs; j < width; j++) strip[p * width + j] = 0;
    }
  }
}

// strip[r·nr + t] = source[bases[t] + positions[r]]: 8 (then 4) columns × 8 (then 4) rows
// transposed in registers where the rows' positions are consecutive, gathered elsewhere.
INLINE void pack_gathered_columns(
  const float *restrict source, const long *restrict bases, long width, const long *restrict positions, long kc,
  float *restrict strip, long nr) {
  long t = 0;
  for (; t + 8 <= width; t += 8) {
    long r = 0;
    for (; r + 8 <= kc; r += 8) {
      const long o = positions[r];
      float *dst = strip + r * nr + t;
      if (positions[r + 7] == o + 7) {
        f8 rows[8];
        for (int k = 0; k < 8; k++) load8(source + bases[t + k] + o, &rows[k]);
        transpose8x8(rows, dst, nr);
      } else {
        for (int q = 0; q < 8; q++) {
          for (int k = 0; k < 8; k++) dst[q * nr + k] = source[bases[t + k] + positions[r + q]];
        }
      }
    }
    for (; r < kc; r++) {
      for (int k = 0; k < 8; k++) strip[r * nr + t + k] = source[bases[t + k] + positions[r]];
    }
  }
  for (; t + 4 <= width; t += 4) {
    const float *s0 = source + bases[t], *s1 = source + bases[t + 1];
    const float *s2 = source + bases[t + 2], *s3 = source + bases[t + 3];
    long r = 0;
    for (; r + 4 <= kc; r += 4) {
      const long o = positions[r];
      float *dst = strip + r * nr + t;
      if (positions[r + 3] == o + 3) {
        transpose4x4(load4(s0 + o), load4(s1 + o), load4(s2 + o), load4(s3 + o), dst, nr);
      } else {
        for (int q = 0; q < 4; q++) {
          const long oq = positions[r + q];
          dst[q * nr] = s0[oq], dst[q * nr + 1] = s1[oq], dst[q * nr + 2] = s2[oq], dst[q * nr + 3] = s3[oq];
        }
      }
    }
    for (; r < kc; r++) {
      const long o = positions[r];
      float *dst = strip + r * nr + t;
      dst[0] = s0[o], dst[1] = s1[o], dst[2] = s2[o], dst[3] = s3[o];
    }
  }
  for (; t < width; t++) {
    const float *s = source + bases[t];
    for (long r = 0; r < kc; r++) strip[r * nr + t] = s[positions[r]];
  }
  if (width < nr) {
    for (long r = 0; r < kc; r++) {
      for (long j = width; j < nr; j++) strip[r * nr + j] = 0;
    }
  }
}

VARIANTS(
  pack_runs_as_columns,
  (const float *restrict source, long run_stride, long runs, long length, float *restrict strip, long width),
  (source, run_stride, runs, length, strip, width))

void ccnn_pack_runs_as_columns(
  const float *source, long run_stride, long runs, long length, float *strip, long width) {
  DISPATCH(pack_runs_as_columns, (source, run_stride, runs, length, strip, width))
}

void ccnn_pack_runs_as_columns_isa(
  int isa, const float *source, long run_stride, long runs, long length, float *strip, long width) {
  DISPATCH_ISA(pack_runs_as_columns, isa, (source, run_stride, runs, length, strip, width))
}

VARIANTS(
  pack_gathered_columns,
  (const float *restrict source, const long *restrict bases, long width, const long *restrict positions, long kc,
    float *restrict strip, long nr),
  (source, bases, width, positions, kc, strip, nr))

#if defined(__x86_64__)
#include <immintrin.h>

// pack_gathered_columns with AVX-512, where eight rows' positions, not consecutive, still lie
// within 16 floats (a few taps of each of two or three channels: the per-position weights of a
// convolution on a 2×2 or 1×1 map): each of the eight columns' 16 floats loaded at once and the
// eight picked by a permute, then the 8 × 8 block transposed as for consecutive rows. Gathered
// one by one, those blocks were a quarter of a 2×2-map forward pass.
__attribute__((target("avx512f,avx512vl"))) static void pack_windowed_columns_avx512(
  const float *restrict source, const long *restrict bases, long width, const long *restrict positions, long kc,
  float *restrict strip, long nr) {
  long t = 0;
  for (; t + 8 <= width; t += 8) {
    long r = 0;
    for (; r + 8 <= kc; r += 8) {
      const long o = positions[r];
      int index[16] = {0}, inside = 1;
      for (int q = 0; q < 8; q++) {
        const long d = positions[r + q] - o;
        inside &= d >= 0 && d < 16;
        index[q] = (int)d;
      }
      float *dst = strip + r * nr + t;
      if (!inside) {
        for (int q = 0; q < 8; q++) {
          for (int k = 0; k < 8; k++) dst[q * nr + k] = source[bases[t + k] + positions[r + q]];
        }
        continue;
      }
      // Lanes past the furthest position are not read (they may lie past the source).
      int furthest = 0;
      for (int q = 0; q < 8; q++) furthest = index[q] > furthest ? index[q] : furthest;
      const __mmask16 window = (__mmask16)((2u << furthest) - 1);
      const __m512i pick = _mm512_loadu_si512(index);
      f8 rows[8];
      for (int k = 0; k < 8; k++) {
        const __m256 v = _mm512_castps512_ps256(
          _mm512_permutexvar_ps(pick, _mm512_maskz_loadu_ps(window, source + bases[t + k] + o)));
        __builtin_memcpy(&rows[k], &v, sizeof v);
      }
      transpose8x8(rows, dst, nr);
    }
    for (; r < kc; r++) {
      for (int k = 0; k < 8; k++) strip[r * nr + t + k] = source[bases[t + k] + positions[r]];
    }
  }
  for (; t < width; t++) {
    const float *s = source + bases[t];
    for (long r = 0; r < kc; r++) strip[r * nr + t] = s[positions[r]];
  }
  if (width < nr) {
    for (long r = 0; r < kc; r++) {
      for (long j = width; j < nr; j++) strip[r * nr + j] = 0;
    }
  }
}
#endif

void ccnn_pack_gathered_columns(
  const float *source, const long *bases, long width, const long *positions, long kc, float *strip, long nr) {
  ccnn_pack_gathered_columns_isa(ccnn_isa(), source, bases, width, positions, kc, strip, nr);
}

void ccnn_pack_gathered_columns_isa(
  int isa, const float *source, const long *bases, long width, const long *positions, long kc, float *strip, long nr) {
#if defined(__x86_64__)
  if (isa >= CCNN_ISA_AVX512 && ccnn_isa() == CCNN_ISA_AVX512) {
    pack_windowed_columns_avx512(source, bases, width, positions, kc, strip, nr);
    return;
  }
#endif
  DISPATCH_ISA(pack_gathered_columns, isa, (source, bases, width, positions, kc, strip, nr))
}
