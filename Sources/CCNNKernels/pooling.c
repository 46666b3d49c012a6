// Max and min pooling with any window, stride and padding (CNNKernels/Pooling.swift gives
// the semantics), compiled for AVX-512, AVX2 and the baseline, the widest the CPU runs called.
//
// Along each output row, the outputs whose windows lie inside the row (the interior) go eight
// (or four) at a time in clang vector types: the best so far and its offset stay in registers
// while the window's positions are scanned, row by row. Computing an output twice gives the
// same result, so an interior that is not a multiple of eight is covered by groups whose last
// one overlaps the one before it. The outputs at the edges, and interiors narrower than four,
// scan their windows' positions inside the plane one output at a time.
#include "dispatch.h"
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))

typedef float f8 __attribute__((ext_vector_type(8)));
typedef int32_t i8 __attribute__((ext_vector_type(8)));
typedef float f4 __attribute__((ext_vector_type(4)));
typedef int32_t i4 __attribute__((ext_vector_type(4)));

// The candidates p[0], p[S], … of one group of lanes; stride 2 loads the 15 floats it spans
// as two overlapping vectors and keeps the even ones, so it never reads past the last.
INLINE void candidates8(const float *p, long S, f8 *out) {
  f8 v;
  if (S == 1) {
    __builtin_memcpy(&v, p, sizeof v);
  } else if (S == 2) {
    f8 a, b;
    __builtin_memcpy(&a, p, sizeof a);
    __builtin_memcpy(&b, p + 7, sizeof b);
    v = __builtin_shufflevector(a, b, 0, 2, 4, 6, 9, 11, 13, 15);
  } else {
    for (int l = 0; l < 8; l++) v[l] = p[l * S];
  }
  *out = v;
}

INLINE void candidates4(const float *p, long S, f4 *out) {
  f4 v;
  if (S == 1) {
    __builtin_memcpy(&v, p, sizeof v);
  } else if (S == 2) {
    f4 a, b;
    __builtin_memcpy(&a, p, sizeof a);
    __builtin_memcpy(&b, p + 3, sizeof b);
    v = __builtin_shufflevector(a, b, 0, 2, 5, 7);
  } else {
    for (int l = 0; l < 4; l++) v[l] = p[l * S];
  }
  *out = v;
}

// Whether candidate `v` beats `best`: strictly better, or a NaN when the best is not one
// (`!(v <= best)` is true for a NaN `v`). Nothing beats a NaN.
#define BEATS(v, best, is_max) (((is_max) ? ~((v) <= (best)) : ~((v) >= (best))) & ((best) == (best)))

// Outputs ow ..< ow + W (W = 8 or 4, all in the interior): the best of each window and, with
// `index`, its offset in the plane. The window's positions e = 0, 1, … (row by row) are taken
// two at a time: the better of the pair (the second only if it beats the first) is then
// matched against the best so far. Keeping the first NaN, else the first largest, of a run
// of positions gives the same winner whether the run is scanned one by one or in pairs, and
// the pairs halve the chain of dependent comparisons.
#define GROUP(W, ow)                                                                           \
  do {                                                                                         \
    const long left = (ow) * S - PL;                                                           \
    i##W lanes;                                                                                \
    for (int l = 0; l < W; l++) lanes[l] = l * (int32_t)S;                                     \
    f##W best, v, u;                                                                           \
    candidates##W(plane + h0 * width + left, S, &best);                                        \
    i##W winner = (int32_t)(h0 * width + left) + lanes;                                        \
    long h = h0, k = 1;                                                                        \
    if (k == KW) k = 0, h++;                                                                   \
    while (h < h1) {                                                                           \
      const long at = h * width + left + k;                                                    \
      candidates##W(plane + at, S, &v);                                                        \
      i##W place = (int32_t)at + lanes;                                                        \
      if (++k == KW) k = 0, h++;                                                               \
      if (h < h1) {                                                                            \
        const long next = h * width + left + k;                                                \
        candidates##W(plane + next, S, &u);                                                    \
        const i##W second = BEATS(u, v, is_max);                                               \
        v = (f##W)(((i##W)u & second) | ((i##W)v & ~second));                                 \
        if (with_index) place = (((int32_t)next + lanes) & second) | (place & ~second);        \
        if (++k == KW) k = 0, h++;                                                             \
      }                                                                                        \
      const i##W wins = BEATS(v, best, is_max);                                                \
      best = (f##W)(((i##W)v & wins) | ((i##W)best & ~wins));                                  \
      if (with_index) winner = (place & wins) | (winner & ~wins);                              \
    }                                                                                          \
    __builtin_memcpy(out + (ow), &best, sizeof best);                                          \
    if (with_index) __builtin_memcpy(winners + (ow), &winner, sizeof winner);                  \
  } while (0)

INLINE void extremum_planes(
  const float *restrict x, long planes, const ccnn_pool_geometry *g, float *restrict y, int32_t *restrict index,
  const long S, const int is_max, const int with_index) {
  const long height = g->height, width = g->width, OH = g->out_height, OW = g->out_width;
  const long KH = g->kernel_height, KW = g->kernel_width, PL = g->pad_left;
  // The interior: ow·S − PL ≥ 0 and ow·S − PL + KW ≤ width.
  const long span = width - KW + PL;
  long i0 = (PL + S - 1) / S, i1 = span < 0 ? 0 : span / S + 1;
  i0 = i0 < OW ? i0 : OW;
  i1 = i1 < OW ? i1 : OW;
  if (i1 - i0 < 4) i1 = i0;  // too narrow for vectors: all scalar
  for (long p = 0; p < planes; p++) {
    const float *restrict plane = x + p * height * width;
    for (long oh = 0; oh < OH; oh++) {
      float *restrict out = y + (p * OH + oh) * OW;
      int32_t *restrict winners = with_index ? index + (p * OH + oh) * OW : 0;
      const long top = oh * g->stride_height - g->pad_top;
      const long h0 = top < 0 ? 0 : top, h1 = top + KH < height ? top + KH : height;
      for (long ow = 0; ow < OW; ow++) {
        if (ow == i0 && i1 > i0) {
          if (i1 - i0 >= 8) {
            for (long o = i0;; o += 8) {
              if (o + 8 > i1) o = i1 - 8;
              GROUP(8, o);
              if (o + 8 == i1) break;
            }
          } else {
            GROUP(4, i0);
            GROUP(4, i1 - 4);
          }
          ow = i1 - 1;
          continue;
        }
        // One output at the edge: its window's positions inside the plane, row by row.
        const long left = ow * S - PL;
        const long w0 = left < 0 ? 0 : left, w1 = left + KW < width ? left + KW : width;
        float best = plane[h0 * width + w0];
        long winner = h0 * width + w0;
        for (long h = h0; h < h1; h++) {
          for (long w = h == h0 ? w0 + 1 : w0; w < w1; w++) {
            const float v = plane[h * width + w];
            const int wins = (is_max ? !(v <= best) : !(v >= best)) && best == best;
            if (wins) {
              best = v;
              winner = h * width + w;
            }
          }
        }
        out[ow] = best;
        if (with_index) winners[ow] = (int32_t)winner;
      }
    }
  }
}

// One copy per stride kind (1, 2, other), order and index use, so that each inlines its
// constants.
INLINE void extremum_pool(
  const float *x, long planes, const ccnn_pool_geometry *g, int is_max, float *y, int32_t *index) {
  const long S = g->stride_width;
#define BY_STRIDE(is_max, with_index)                                                          \
  do {                                                                                         \
    if (S == 1) extremum_planes(x, planes, g, y, index, 1, is_max, with_index);                \
    else if (S == 2) extremum_planes(x, planes, g, y, index, 2, is_max, with_index);           \
    else extremum_planes(x, planes, g, y, index, S, is_max, with_index);                       \
  } while (0)
  if (is_max) {
    if (index) BY_STRIDE(1, 1);
    else BY_STRIDE(1, 0);
  } else {
    if (index) BY_STRIDE(0, 1);
    else BY_STRIDE(0, 0);
  }
#undef BY_STRIDE
}

VARIANTS(
  extremum_pool, (const float *x, long planes, const ccnn_pool_geometry *g, int is_max, float *y, int32_t *index),
  (x, planes, g, is_max, y, index))

void ccnn_extremum_pool(
  const float *x, long planes, const ccnn_pool_geometry *g, int is_max, float *y, int32_t *index) {
  DISPATCH(extremum_pool, (x, planes, g, is_max, y, index))
}

void ccnn_extremum_pool_isa(
  int isa, const float *x, long planes, const ccnn_pool_geometry *g, int is_max, float *y, int32_t *index) {
  DISPATCH_ISA(extremum_pool, isa, (x, planes, g, is_max, y, index))
}
