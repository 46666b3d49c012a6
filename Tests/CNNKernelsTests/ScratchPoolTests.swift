import Testing

@testable import CNNKernels

/// Large scratch buffers come from `ScratchPool`: mapped apart from the heap, by size class,
/// and reused once freed.
@Suite struct ScratchPoolTests {
  @Test(arguments: [1, 4096, 4097, 1 << 18, (1 << 18) + 1, 300_000, 5 << 20, (5 << 20) + 12_345, 411 << 20])
  func sizeClassCoversTheRequestWithinAQuarter(bytes: Int) {
    let size = ScratchPool.sizeClass(bytes)
    let pages = (bytes + 4095) / 4096 * 4096
    #expect(size >= pages)
    #expect(size % 4096 == 0)
    #expect(Double(size) <= Double(pages) * 1.25)
  }

  @Test func freedBuffersAreReusedAndUsable() {
    // A pool of its own, so that concurrent tests do not take the freed buffer first.
    let pool = ScratchPool()
    let bytes = 3 << 20
    let first = pool.allocate(bytes: bytes)
    first.storeBytes(of: 1, toByteOffset: bytes - 4, as: Float.self)
    pool.release(first, bytes: bytes)
    #if canImport(Glibc)
      #expect(pool.cached == ScratchPool.sizeClass(bytes))
    #endif
    let second = pool.allocate(bytes: bytes - 28)
    #if canImport(Glibc)
      // The same size class: the freed buffer comes back rather than a new mapping.
      #expect(second == first)
      #expect(pool.cached == 0)
    #endif
    second.storeBytes(of: 2, toByteOffset: bytes - 32, as: Float.self)
    #expect(second.load(fromByteOffset: bytes - 32, as: Float.self) == 2)
    pool.release(second, bytes: bytes - 28)

    let buffer = FloatBuffer(count: bytes / 4)
    buffer.base.update(repeating: 3, count: bytes / 4)
    #expect(buffer.base[bytes / 4 - 1] == 3)
    buffer.deallocate()
  }

  @Test func aFullCacheGivesWayToTheSizesInUse() {
    // Room for two buffers of 1 MiB: one size (a batch of 32's) fills it, then another (batch
    // 1's) must be kept in its place rather than mapped and unmapped on every call.
    let mib = 1 << 20
    let pool = ScratchPool(cachedLimit: 2 * mib)
    let old = [pool.allocate(bytes: mib), pool.allocate(bytes: mib)]
    for buffer in old { pool.release(buffer, bytes: mib) }
    let newSize = 768 << 10
    let new = pool.allocate(bytes: newSize)
    pool.release(new, bytes: newSize)
    #if canImport(Glibc)
      #expect(pool.cachedCount(bytes: newSize) == 1)
      #expect(pool.cachedCount(bytes: mib) == 1)
      #expect(pool.cached == ScratchPool.sizeClass(mib) + ScratchPool.sizeClass(newSize))
      #expect(pool.allocate(bytes: newSize) == new)
      // A buffer larger than the whole cache is never kept, and evicts nothing.
      let huge = pool.allocate(bytes: 3 * mib)
      pool.release(huge, bytes: 3 * mib)
      #expect(pool.cachedCount(bytes: 3 * mib) == 0)
      #expect(pool.cachedCount(bytes: mib) == 1)
    #endif
  }
}
