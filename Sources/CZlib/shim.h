// The system zlib (https://zlib.net), for CNNData's gzip, zlib and CRC-32 code.
#ifndef CNNKIT_CZLIB_SHIM_H
#define CNNKIT_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 and deflateInit2 are macros (they pass the header's version and z_stream
// size), which Swift cannot call; these functions are the same calls.
static inline int cnnkit_inflateInit2(z_streamp stream, int windowBits) {
  return inflateInit2(stream, windowBits);
}

// A zlib stream (window 2^15, memLevel 8: zlib's defaults) at `level` with `strategy`.
static inline int cnnkit_deflateInit(z_streamp stream, int level, int strategy) {
  return deflateInit2(stream, level, Z_DEFLATED, 15, 8, strategy);
}

#endif
