// Picks the GEMM micro-kernel ISA once, from CPUID.
#include "CCNNKernels.h"

int ccnn_best_isa(void) {
#if defined(__x86_64__)
  // __builtin_cpu_supports also checks (via XGETBV) that the OS saves the wide registers.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
    return CCNN_ISA_AVX512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return CCNN_ISA_AVX2;
  }
#endif
  return CCNN_ISA_PORTABLE;
}
