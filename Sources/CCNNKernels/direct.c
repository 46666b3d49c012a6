// Direct convolution with stride 1 for filters with few taps (C·KH·KW small: a network's
// first layer, SimpleConvNet's 1 → 30 5×5), where im2col + GEMM spends more time unrolling
// the windows than multiplying. The output row is in the vector lanes; a block of three
// filters × 24 columns (nine accumulators) reads each input vector once per tap for the three:
//
//   out[k, oh, ow] = (Σ over (c, i, j) in that order of w[k, c, i, j] · src[c, oh + i, ow + j]) + bias[k]
//
// from a zero-padded source, summed from zero with one fused multiply-add per tap, then the
// bias added: the order and rounding of the im2col + GEMM path (its micro-kernels accumulate
// each output over the R = C·KH·KW rows in order, from zero, in one depth block when R is
// small, and the bias is added after), so the two give the same bits. AVX2;
// `ccnn_conv_direct_supported` says whether it runs.
#include "CCNNKernels.h"

#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

// Filters k0 ..< k0 + KB, output row oh, columns ow0 ..< ow0 + 8·NV; tap (c, i, j) reads
// `src + c·channel_stride + (oh + i)·row_stride + ow0 + j`. KW is the filters' width when it
// is a constant (the tap loop unrolled), else 0 and `kernel_w` gives it.
AVX2 static inline __attribute__((always_inline)) void direct_block(
  const float *src, long channels, long channel_stride, long row_stride, long kernel_h, long kernel_w,
  const float *weight, long taps, const float *bias, float *out, long plane, long out_width, long k0, long oh,
  long ow0, const int KB, const int NV, const int KW) {
  const long kw = KW ? KW : kernel_w;
  __m256 acc[9];  // KB·NV ≤ 3·3
  for (int a = 0; a < KB * NV; a++) acc[a] = _mm256_setzero_ps();
  const float *w = weight + k0 * taps;
  for (long c = 0; c < channels; c++) {
    const float *row = src + c * channel_stride + oh * row_stride + ow0;
    for (long i = 0; i < kernel_h; i++, row += row_stride, w += kw) {
      for (long j = 0; j < kw; j++) {
        __m256 xv[3];
        for (int v = 0; v < NV; v++) xv[v] = _mm256_loadu_ps(row + j + 8 * v);
        for (int b = 0; b < KB; b++) {
          const __m256 wb = _mm256_broadcast_ss(w + b * taps + j);
          for (int v = 0; v < NV; v++) acc[b * NV + v] = _mm256_fmadd_ps(wb, xv[v], acc[b * NV + v]);
        }
      }
    }
  }
  for (int b = 0; b < KB; b++) {
    float *o = out + (k0 + b) * plane + oh * out_width + ow0;
    const __m256 add = _mm256_set1_ps(bias ? bias[k0 + b] : 0);
    for (int v = 0; v < NV; v++) {
      const __m256 y = bias ? _mm256_add_ps(acc[b * NV + v], add) : acc[b * NV + v];
      _mm256_storeu_ps(o + 8 * v, y);
    }
  }
}

// One output row's filters k0 ..< k0 + KB: blocks of 24 columns, then of 16 and of 8, then
// the last 1 to 7 columns as a block of 8 moved left to end at the row's end (recomputing a
// few columns with the same bits; the row is at least 8 wide).
AVX2 static inline __attribute__((always_inline)) void direct_row(
  const float *src, long channels, long channel_stride, long row_stride, long kernel_h, long kernel_w,
  const float *weight, long taps, const float *bias, float *out, long plane, long out_width, long k0, long oh,
  const int KB, const int KW) {
#define ARGS src, channels, channel_stride, row_stride, kernel_h, kernel_w, weight, taps, bias, out, plane, out_width, k0, oh
  long ow0 = 0;
  for (; ow0 + 24 <= out_width; ow0 += 24)
    direct_block(ARGS, ow0, KB, 3, KW);
  if (ow0 + 16 <= out_width) {
    direct_block(ARGS, ow0, KB, 2, KW);
    ow0 += 16;
  }
  if (ow0 + 8 <= out_width) {
    direct_block(ARGS, ow0, KB, 1, KW);
    ow0 += 8;
  }
  if (ow0 < out_width)
    direct_block(ARGS, out_width - 8, KB, 1, KW);
#undef ARGS
}

// Rows row0 ..< row1; in each, every block of three filters (the last moved down to end at
// the last filter, recomputing one or two with the same bits; fewer filters than three in
// one block). Rows outermost, so that the C·KH input rows a row reads stay in L1 for all the
// filters. Three filters by 24 columns: nine accumulators, three input vectors and a
// broadcast (four filters would need all sixteen registers and more, and ran at 0.6× on Zen 3).
AVX2 static inline __attribute__((always_inline)) void direct_rows_kw(
  const float *src, long channels, long channel_stride, long row_stride, long kernel_h, long kernel_w,
  const float *weight, long outputs, const float *bias, float *out, long out_height, long out_width, long row0,
  long row1, const int KW) {
  const long taps = channels * kernel_h * kernel_w, plane = out_height * out_width;
  for (long oh = row0; oh < row1; oh++) {
    if (outputs < 3) {
      for (long k = 0; k < outputs; k++)
        direct_row(
          src, channels, channel_stride, row_stride, kernel_h, kernel_w, weight, taps, bias, out, plane, out_width, k,
          oh, 1, KW);
      continue;
    }
    for (long k0 = 0;; k0 += 3) {
      const long at = k0 + 3 > outputs ? outputs - 3 : k0;
      direct_row(
        src, channels, channel_stride, row_stride, kernel_h, kernel_w, weight, taps, bias, out, plane, out_width, at,
        oh, 3, KW);
      if (at + 3 >= outputs) break;
    }
  }
}

AVX2 static void direct_rows(
  const float *src, long channels, long channel_stride, long row_stride, long kernel_h, long kernel_w,
  const float *weight, long outputs, const float *bias, float *out, long out_height, long out_width, long row0,
  long row1) {
#define ROWS(KW)                                                                                                  \
  direct_rows_kw(                                                                                                 \
    src, channels, channel_stride, row_stride, kernel_h, kernel_w, weight, outputs, bias, out, out_height,        \
    out_width, row0, row1, KW)
  switch (kernel_w) {
  case 3: ROWS(3); break;
  case 5: ROWS(5); break;
  default: ROWS(0); break;
  }
#undef ROWS
}
#endif

int ccnn_conv_direct_supported(void) {
#if defined(__x86_64__)
  return ccnn_isa() >= CCNN_ISA_AVX2;
#else
  return 0;
#endif
}

void ccnn_conv_direct(
  const float *src, long channels, long channel_stride, long row_stride, const float *weight, long outputs,
  long kernel_h, long kernel_w, const float *bias, float *out, long out_height, long out_width, long row0,
  long row1) {
#if defined(__x86_64__)
  if (ccnn_conv_direct_supported() && out_width >= 8 && row0 >= 0 && row1 <= out_height) {
    direct_rows(
      src, channels, channel_stride, row_stride, kernel_h, kernel_w, weight, outputs, bias, out, out_height, out_width,
      row0, row1);
    return;
  }
#else
  (void)src, (void)channels, (void)channel_stride, (void)row_stride, (void)weight, (void)outputs, (void)kernel_h,
    (void)kernel_w, (void)bias, (void)out, (void)out_height, (void)out_width, (void)row0, (void)row1;
#endif
  abort();
}
