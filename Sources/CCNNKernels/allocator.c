// Keeps large freed blocks in the heap instead of returning them to the OS.
#include "CCNNKernels.h"

// Any libc header defines __GLIBC__ on glibc (through <features.h>); without one the test
// below is always false and the tuning silently never happens.
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int ccnn_reuse_large_allocations(void) {
#if defined(__GLIBC__)
  // Training allocates tensors of several MB every step. By default glibc serves those with
  // mmap and unmaps them on free, so each step pays a page fault and a zeroed page for every
  // 4 KB it touches (a third of SimpleConvNet's step time). Raising the thresholds makes
  // freed blocks reusable, as PyTorch's caching allocator does.
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit systems.
  int ok = mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Blocks above that threshold (a 224×224 batch's activations: 103 MB for ResNet's first
  // convolution at batch 32) would still be mapped and unmapped every step: serve every
  // block from the heap instead, and keep up to 1 GiB of freed heap before returning any.
  ok &= mallopt(M_MMAP_MAX, 0);
  ok &= mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return ok;
#else
  return 0;
#endif
}
