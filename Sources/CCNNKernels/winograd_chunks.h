// What the Winograd transforms of winograd.c (F(2×2, 3×3)) and winograd5x5.c (F(2×2, 5×5))
// share: the dispatch macros and the chunks in which the output-gradient and output transforms
// take the tiles of several tile rows in one loop.
#ifndef CCNN_WINOGRAD_CHUNKS_H
#define CCNN_WINOGRAD_CHUNKS_H

#include "dispatch.h"

#define INLINE static inline __attribute__((always_inline))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define CHUNK 256

// The chunks: `chunk_rows` whole rows from r0 when a row has at most CHUNK tiles, else pieces
// of one row; tile (r0 + r, x0 + x) is the chunk's tile r·cols + x, and a chunk's tiles are
// consecutive in q.
#define FOR_CHUNKS(tile_rows, tiles)                                                          \
  const long rows_per_chunk = (tiles) <= CHUNK ? CHUNK / (tiles) : 1;                         \
  for (long r0 = 0; r0 < (tile_rows); r0 += rows_per_chunk)                                   \
    for (long x0 = 0, chunk_rows = MIN(rows_per_chunk, (tile_rows) - r0); x0 < (tiles); x0 += CHUNK)

#endif
