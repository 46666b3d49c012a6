// The transforms of Winograd's minimal filtering F(m×m, r×r) (see CNNKernels/Winograd.swift for
// the algorithm): one generic body per transform, instantiated for F(2×2, 3×3), F(4×4, 3×3) and
// F(2×2, 5×5) with their matrices as constants, so that clang unrolls the small loops, folds
// the zeros and ones away and vectorizes along the tiles. Each instance is compiled for
// AVX-512, AVX2 and the baseline; the widest the CPU runs is called.
//
// The matrices (α = m + r − 1; points 0, 1, −1, 2, −2 and ∞, by Cook–Toom as in Lavin and
// Gray 2016): Aᵀ is m × α, G is α × r, Bᵀ is α × α, all row-major.
#include "CCNNKernels.h"

#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("clang loop unroll(full)")

static const float AT_2_3[] = {1, 1, 1, 0, 0, 1, -1, -1};
static const float G_2_3[] = {1, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, -0.5f, 0.5f, 0, 0, 1};
static const float BT_2_3[] = {1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1};

static const float AT_4_3[] = {
  1, 1, 1, 1, 1, 0,
  0, 1, -1, 2, -2, 0,
  0, 1, 1, 4, 4, 0,
  0, 1, -1, 8, -8, 1};
static const float G_4_3[] = {
  1.0f / 4, 0, 0,
  -1.0f / 6, -1.0f / 6, -1.0f / 6,
  -1.0f / 6, 1.0f / 6, -1.0f / 6,
  1.0f / 24, 1.0f / 12, 1.0f / 6,
  1.0f / 24, -1.0f / 12, 1.0f / 6,
  0, 0, 1};
static const float BT_6[] = {
  4, 0, -5, 0, 1, 0,
  0, -4, -4, 1, 1, 0,
  0, 4, -4, -1, 1, 0,
  0, -2, -1, 2, 1, 0,
  0, 2, -1, -2, 1, 0,
  0, 4, 0, -5, 0, 1};

static const float AT_2_5[] = {
  1, 1, 1, 1, 1, 0,
  0, 1, -1, 2, -2, 1};
static const float G_2_5[] = {
  1.0f / 4, 0, 0, 0, 0,
  -1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6,
  -1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6,
  1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3, 2.0f / 3,
  1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3, 2.0f / 3,
  0, 0, 0, 0, 1};

// V = Bᵀ d B for each tile x < tiles: d[k][j] = rows[k·len + m·x + j]; v[i][j] goes to
// out[(i·α + j)·stride + x].
INLINE void input_tiles(
  const int m, const int a, const float *restrict BT, const float *restrict rows, long len, long tiles,
  float *restrict out, long stride) {
  for (long x = 0; x < tiles; x++) {
    const float *restrict d = rows + m * x;
    float t[6][6];
    UNROLL for (int i = 0; i < a; i++) {
      UNROLL for (int j = 0; j < a; j++) {
        float s = 0;
        UNROLL for (int k = 0; k < a; k++) s += BT[i * a + k] * d[k * len + j];
        t[i][j] = s;
      }
    }
    UNROLL for (int i = 0; i < a; i++) {
      UNROLL for (int j = 0; j < a; j++) {
        float s = 0;
        UNROLL for (int k = 0; k < a; k++) s += t[i][k] * BT[j * a + k];
        out[(i * a + j) * stride + x] = s;
      }
    }
  }
}

// A dY Aᵀ for each tile x < tiles: dY[p][q] = rows[p·len + m·x + q] (p, q < m); w[i][j] goes to
// out[(i·α + j)·stride + x].
INLINE void gradient_tiles(
  const int m, const int a, const float *restrict AT, const float *restrict rows, long len, long tiles,
  float *restrict out, long stride) {
  for (long x = 0; x < tiles; x++) {
    const float *restrict dy = rows + m * x;
    float u[6][4];
    UNROLL for (int i = 0; i < a; i++) {
      UNROLL for (int q = 0; q < m; q++) {
        float s = 0;
        UNROLL for (int p = 0; p < m; p++) s += AT[p * a + i] * dy[p * len + q];
        u[i][q] = s;
      }
    }
    UNROLL for (int i = 0; i < a; i++) {
      UNROLL for (int j = 0; j < a; j++) {
        float s = 0;
        UNROLL for (int q = 0; q < m; q++) s += u[i][q] * AT[q * a + j];
        out[(i * a + j) * stride + x] = s;
      }
    }
  }
}

// Y = Aᵀ M A + bias for tile x: the products mm[(i·α + j)·stride + x]; y[p][q] goes to
// out[p·width + m·x + q] for the `rows` first rows p, and tiles ≥ `full` write only the
// columns m·x + q < width.
#define OUTPUT_TILE(x)                                                                       \
  float s[4][6], y[4][4];                                                                    \
  UNROLL for (int p = 0; p < m; p++) {                                                       \
    UNROLL for (int j = 0; j < a; j++) {                                                     \
      float acc = 0;                                                                         \
      UNROLL for (int i = 0; i < a; i++) acc += AT[p * a + i] * mm[(i * a + j) * stride + (x)]; \
      s[p][j] = acc;                                                                         \
    }                                                                                        \
  }                                                                                          \
  UNROLL for (int p = 0; p < m; p++) {                                                       \
    UNROLL for (int q = 0; q < m; q++) {                                                     \
      float acc = bias;                                                                      \
      UNROLL for (int j = 0; j < a; j++) acc += s[p][j] * AT[q * a + j];                     \
      y[p][q] = acc;                                                                         \
    }                                                                                        \
  }

INLINE void output_rows(
  const int m, const int a, const int rows, const float *restrict AT, const float *restrict mm, long stride,
  long full, float bias, float *restrict out, long width) {
  for (long x = 0; x < full; x++) {
    OUTPUT_TILE(x)
    UNROLL for (int p = 0; p < rows; p++) {
      UNROLL for (int q = 0; q < m; q++) out[p * width + m * x + q] = y[p][q];
    }
  }
}

INLINE void output_tiles(
  const int m, const int a, const float *restrict AT, const float *restrict mm, long stride, long tiles,
  long rows, float bias, float *restrict out, long width) {
  const long full = width / m < tiles ? width / m : tiles;
  switch (rows) {
  case 1: output_rows(m, a, 1, AT, mm, stride, full, bias, out, width); break;
  case 2: output_rows(m, a, 2, AT, mm, stride, full, bias, out, width); break;
  case 3: if (m > 2) output_rows(m, a, 3, AT, mm, stride, full, bias, out, width); break;
  default: if (m > 3) output_rows(m, a, 4, AT, mm, stride, full, bias, out, width); break;
  }
  for (long x = full; x < tiles; x++) {
    OUTPUT_TILE(x)
    for (int p = 0; p < rows; p++) {
      for (int q = 0; q < m && m * x + q < width; q++) out[p * width + m * x + q] = y[p][q];
    }
  }
}

// U = G g Gᵀ for the filters of outputs o0 ..< o1, packed as GEMM A panels (see the header).
INLINE void filters(
  const int r, const int a, const float *restrict G, const float *restrict weight, long outputs, long inputs,
  int flipped, long mr, long o0, long o1, float *restrict u) {
  const long panels = (outputs + mr - 1) / mr;
  const long panel_size = inputs * mr;
  const int taps = r * r;
  for (long o = o0; o < o1; o++) {
    float *restrict base = u + (o / mr) * panel_size + o % mr;
    for (long i = 0; i < inputs; i++) {
      float g[25];
      const float *f = flipped ? weight + (i * outputs + o) * taps : weight + (o * inputs + i) * taps;
      UNROLL for (int tap = 0; tap < taps; tap++) g[tap] = flipped ? f[taps - 1 - tap] : f[tap];
      float t[6][5];
      UNROLL for (int p = 0; p < a; p++) {
        UNROLL for (int k = 0; k < r; k++) {
          float s = 0;
          UNROLL for (int l = 0; l < r; l++) s += G[p * r + l] * g[l * r + k];
          t[p][k] = s;
        }
      }
      UNROLL for (int p = 0; p < a; p++) {
        UNROLL for (int q = 0; q < a; q++) {
          float s = 0;
          UNROLL for (int k = 0; k < r; k++) s += t[p][k] * G[q * r + k];
          base[((p * a + q) * panels) * panel_size + i * mr] = s;
        }
      }
    }
  }
}

// dg += Gᵀ du G for the filters p0 ..< p1 of `pairs` (see the header).
INLINE void filter_gradients(
  const int r, const int a, const float *restrict G, const float *restrict du, long pairs, long p0, long p1,
  float *restrict dg) {
  for (long f = p0; f < p1; f++) {
    float t[5][6];
    UNROLL for (int l = 0; l < r; l++) {
      UNROLL for (int j = 0; j < a; j++) {
        float s = 0;
        UNROLL for (int i = 0; i < a; i++) s += G[i * r + l] * du[(i * a + j) * pairs + f];
        t[l][j] = s;
      }
    }
    UNROLL for (int l = 0; l < r; l++) {
      UNROLL for (int k = 0; k < r; k++) {
        float s = 0;
        UNROLL for (int j = 0; j < a; j++) s += t[l][j] * G[j * r + k];
        dg[f * r * r + l * r + k] += s;
      }
    }
  }
}

// One function per transform and algorithm, then a variant of each per instruction set.
#define ALGORITHMS(name, params, args23, args43, args25)                                     \
  INLINE void name##_all params {                                                            \
    switch (algorithm) {                                                                     \
    case CCNN_WINOGRAD_F2X2_3X3: name args23; break;                                         \
    case CCNN_WINOGRAD_F4X4_3X3: name args43; break;                                         \
    default: name args25; break;                                                             \
    }                                                                                        \
  }

ALGORITHMS(
  input_tiles, (int algorithm, const float *rows, long len, long tiles, float *out, long stride),
  (2, 4, BT_2_3, rows, len, tiles, out, stride), (4, 6, BT_6, rows, len, tiles, out, stride),
  (2, 6, BT_6, rows, len, tiles, out, stride))
ALGORITHMS(
  gradient_tiles, (int algorithm, const float *rows, long len, long tiles, float *out, long stride),
  (2, 4, AT_2_3, rows, len, tiles, out, stride), (4, 6, AT_4_3, rows, len, tiles, out, stride),
  (2, 6, AT_2_5, rows, len, tiles, out, stride))
ALGORITHMS(
  output_tiles,
  (int algorithm, const float *mm, long stride, long tiles, long rows, float bias, float *out, long width),
  (2, 4, AT_2_3, mm, stride, tiles, rows, bias, out, width), (4, 6, AT_4_3, mm, stride, tiles, rows, bias, out, width),
  (2, 6, AT_2_5, mm, stride, tiles, rows, bias, out, width))
ALGORITHMS(
  filters,
  (int algorithm, const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u),
  (3, 4, G_2_3, weight, outputs, inputs, flipped, mr, o0, o1, u),
  (3, 6, G_4_3, weight, outputs, inputs, flipped, mr, o0, o1, u),
  (5, 6, G_2_5, weight, outputs, inputs, flipped, mr, o0, o1, u))
ALGORITHMS(
  filter_gradients, (int algorithm, const float *du, long pairs, long p0, long p1, float *dg),
  (3, 4, G_2_3, du, pairs, p0, p1, dg), (3, 6, G_4_3, du, pairs, p0, p1, dg), (5, 6, G_2_5, du, pairs, p0, p1, dg))

#if defined(__x86_64__)
#define VARIANTS(name, params, args)                                                         \
  __attribute__((target("avx512f,fma"))) static void name##_avx512 params { name##_all args; } \
  __attribute__((target("avx2,fma"))) static void name##_avx2 params { name##_all args; }    \
  static void name##_baseline params { name##_all args; }
#define DISPATCH(name, args)                                                                 \
  switch (isa()) {                                                                           \
  case CCNN_ISA_AVX512: name##_avx512 args; break;                                           \
  case CCNN_ISA_AVX2: name##_avx2 args; break;                                               \
  default: name##_baseline args; break;                                                      \
  }
static int isa(void) {
  static int chosen = -1;
  int value = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
  if (value < 0) {
    value = ccnn_best_isa();
    __atomic_store_n(&chosen, value, __ATOMIC_RELAXED);
  }
  return value;
}
#else
#define VARIANTS(name, params, args)
#define DISPATCH(name, args) name##_all args;
#endif

VARIANTS(
  input_tiles, (int algorithm, const float *rows, long len, long tiles, float *out, long stride),
  (algorithm, rows, len, tiles, out, stride))
VARIANTS(
  gradient_tiles, (int algorithm, const float *rows, long len, long tiles, float *out, long stride),
  (algorithm, rows, len, tiles, out, stride))
VARIANTS(
  output_tiles,
  (int algorithm, const float *mm, long stride, long tiles, long rows, float bias, float *out, long width),
  (algorithm, mm, stride, tiles, rows, bias, out, width))
VARIANTS(
  filters,
  (int algorithm, const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u),
  (algorithm, weight, outputs, inputs, flipped, mr, o0, o1, u))
VARIANTS(
  filter_gradients, (int algorithm, const float *du, long pairs, long p0, long p1, float *dg),
  (algorithm, du, pairs, p0, p1, dg))

void ccnn_winograd_input_tiles(int algorithm, const float *rows, long len, long tiles, float *out, long stride) {
  DISPATCH(input_tiles, (algorithm, rows, len, tiles, out, stride))
}

void ccnn_winograd_gradient_tiles(int algorithm, const float *rows, long len, long tiles, float *out, long stride) {
  DISPATCH(gradient_tiles, (algorithm, rows, len, tiles, out, stride))
}

void ccnn_winograd_output_tiles(
  int algorithm, const float *mm, long stride, long tiles, long rows, float bias, float *out, long width) {
  DISPATCH(output_tiles, (algorithm, mm, stride, tiles, rows, bias, out, width))
}

void ccnn_winograd_filters(
  int algorithm, const float *weight, long outputs, long inputs, int flipped, long mr, long o0, long o1, float *u) {
  DISPATCH(filters, (algorithm, weight, outputs, inputs, flipped, mr, o0, o1, u))
}

void ccnn_winograd_filter_gradients(int algorithm, const float *du, long pairs, long p0, long p1, float *dg) {
  DISPATCH(filter_gradients, (algorithm, du, pairs, p0, p1, dg))
}
