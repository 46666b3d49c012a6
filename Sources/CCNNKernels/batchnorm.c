// The per-channel passes of batch normalization over a run of whole channels: element j of
// a block of `length` floats (channels c0 ..< c0 + Cb, each plane of HW floats in a row) is
// read from every image n at x[n·stride + j]. Sums run over n for each j (one Double per j),
// so any plane size vectorizes along j, even 1×1 planes, and each element's order of additions
// is fixed. Per-channel coefficients come expanded to one per element. Compiled for AVX-512,
// AVX2 and the baseline; FP contraction is off, so every variant rounds alike.
#include "dispatch.h"

#pragma clang fp contract(off)

#define INLINE static inline __attribute__((always_inline))

INLINE void moments(
  const float *restrict x, long batch, long stride, long length, const double *restrict center,
  double *restrict sum, double *restrict squares) {
  for (long n = 0; n < batch; n++) {
    const float *restrict row = x + n * stride;
    if (center) {
      for (long j = 0; j < length; j++) {
        const double d = (double)row[j] - center[j];
        squares[j] += d * d;
      }
    } else {
      for (long j = 0; j < length; j++) {
        const double v = row[j];
        sum[j] += v;
        squares[j] += v * v;
      }
    }
  }
}

INLINE void normalize(
  const float *restrict x, float *restrict y, long batch, long stride, long length, const float *restrict scale,
  const float *restrict shift, int relu) {
  for (long n = 0; n < batch; n++) {
    const float *restrict in = x + n * stride;
    float *restrict out = y + n * stride;
    if (relu) {
      for (long j = 0; j < length; j++) {
        const float v = in[j] * scale[j] + shift[j];
        out[j] = v < 0 ? 0 : v;
      }
    } else {
      for (long j = 0; j < length; j++) out[j] = in[j] * scale[j] + shift[j];
    }
  }
}

INLINE void gradient_sums(
  const float *restrict x, const float *restrict dy, const float *restrict r, long batch, long stride, long length,
  const float *restrict mean, const float *restrict inverse, double *restrict sum, double *restrict sum_normalized) {
  for (long n = 0; n < batch; n++) {
    const long o = n * stride;
    if (r) {
      for (long j = 0; j < length; j++) {
        const float g = r[o + j] > 0 ? dy[o + j] : 0;
        const float normalized = (x[o + j] - mean[j]) * inverse[j];
        sum[j] += (double)g;
        sum_normalized[j] += (double)g * (double)normalized;
      }
    } else {
      for (long j = 0; j < length; j++) {
        const float g = dy[o + j];
        const float normalized = (x[o + j] - mean[j]) * inverse[j];
        sum[j] += (double)g;
        sum_normalized[j] += (double)g * (double)normalized;
      }
    }
  }
}

INLINE void input_gradient(
  const float *restrict x, const float *restrict dy, const float *restrict r, float *restrict dx, long batch,
  long stride, long length, float m, const float *restrict scale, const float *restrict sum,
  const float *restrict mean, const float *restrict inverse, const float *restrict sum_normalized) {
  for (long n = 0; n < batch; n++) {
    const long o = n * stride;
    for (long j = 0; j < length; j++) {
      const float g = r ? (r[o + j] > 0 ? dy[o + j] : 0) : dy[o + j];
      dx[o + j] = scale[j] * (m * g - sum[j] - (x[o + j] - mean[j]) * inverse[j] * sum_normalized[j]);
    }
  }
}


VARIANTS(
  moments, (const float *x, long batch, long stride, long length, const double *center, double *sum, double *squares),
  (x, batch, stride, length, center, sum, squares))
VARIANTS(
  normalize,
  (const float *x, float *y, long batch, long stride, long length, const float *scale, const float *shift, int relu),
  (x, y, batch, stride, length, scale, shift, relu))
VARIANTS(
  gradient_sums,
  (const float *x, const float *dy, const float *r, long batch, long stride, long length, const float *mean,
   const float *inverse, double *sum, double *sum_normalized),
  (x, dy, r, batch, stride, length, mean, inverse, sum, sum_normalized))
VARIANTS(
  input_gradient,
  (const float *x, const float *dy, const float *r, float *dx, long batch, long stride, long length, float m,
   const float *scale, const float *sum, const float *mean, const float *inverse, const float *sum_normalized),
  (x, dy, r, dx, batch, stride, length, m, scale, sum, mean, inverse, sum_normalized))

void ccnn_bn_moments(
  const float *x, long batch, long stride, long length, const double *center, double *sum, double *squares) {
  DISPATCH(moments, (x, batch, stride, length, center, sum, squares))
}

void ccnn_bn_normalize(
  const float *x, float *y, long batch, long stride, long length, const float *scale, const float *shift, int relu) {
  DISPATCH(normalize, (x, y, batch, stride, length, scale, shift, relu))
}

void ccnn_bn_gradient_sums(
  const float *x, const float *dy, const float *r, long batch, long stride, long length, const float *mean,
  const float *inverse, double *sum, double *sum_normalized) {
  DISPATCH(gradient_sums, (x, dy, r, batch, stride, length, mean, inverse, sum, sum_normalized))
}

void ccnn_bn_input_gradient(
  const float *x, const float *dy, const float *r, float *dx, long batch, long stride, long length, float m,
  const float *scale, const float *sum, const float *mean, const float *inverse, const float *sum_normalized) {
  DISPATCH(input_gradient, (x, dy, r, dx, batch, stride, length, m, scale, sum, mean, inverse, sum_normalized))
}
