// One function body compiled three times, for AVX-512, AVX2 and the x86-64 baseline, and a
// call that picks the widest the CPU runs (`ccnn_isa`, read once). Off x86-64 the body is
// called as it is. Used by the element-wise kernels (winograd.c, batchnorm.c); the GEMM
// micro-kernels are chosen in Swift (`GEMMKernel`).
//
//   VARIANTS(name, (parameters), (arguments))   defines name_avx512, name_avx2, name_baseline
//   DISPATCH(name, (arguments))                  calls the one for this CPU
//   DISPATCH_ISA(name, isa, (arguments))         calls the one for `isa` (a CCNN_ISA_* value;
//                                                above what the CPU runs, the CPU's), so tests
//                                                can check every variant
#ifndef CCNN_DISPATCH_H
#define CCNN_DISPATCH_H

#include "CCNNKernels.h"

#if defined(__x86_64__)
#define VARIANTS(name, params, args)                                                         \
  __attribute__((target("avx512f,fma"))) static void name##_avx512 params { name args; }     \
  __attribute__((target("avx2,fma"))) static void name##_avx2 params { name args; }          \
  static void name##_baseline params { name args; }
#define DISPATCH_ISA(name, isa, args)                                                        \
  switch ((isa) < ccnn_isa() ? (isa) : ccnn_isa()) {                                         \
  case CCNN_ISA_AVX512: name##_avx512 args; break;                                           \
  case CCNN_ISA_AVX2: name##_avx2 args; break;                                               \
  default: name##_baseline args; break;                                                      \
  }
#define DISPATCH(name, args) DISPATCH_ISA(name, ccnn_isa(), args)
#else
#define VARIANTS(name, params, args)
#define DISPATCH_ISA(name, isa, args) name args;
#define DISPATCH(name, args) name args;
#endif

#endif
