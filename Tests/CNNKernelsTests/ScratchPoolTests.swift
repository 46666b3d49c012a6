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
}
