// Picks the GEMM micro-kernel ISA once, from CPUID.
#include "CCNNKernels.h"

int ccnn_best_isa(void) {
#if defined(__x86_64__)
  // __builtin_cpu_supports also checks (via XGETBV) that the OS saves the wide registers.
  __builtin_cpu_init();
  // AVX-512 with VL (128- and 256-bit masked stores): every AVX-512 CPU but the Xeon Phi;
  // those fall back to AVX2.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma")) {
    return CCNN_ISA_AVX512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return CCNN_ISA_AVX2;
  }
#endif
  return CCNN_ISA_PORTABLE;
}

int ccnn_isa(void) {
  static int chosen = -1;  // a benign race: every thread computes the same value
  int value = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
  if (value < 0) {
    value = ccnn_best_isa();
    __atomic_store_n(&chosen, value, __ATOMIC_RELAXED);
  }
  return value;
}
