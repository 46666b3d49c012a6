// The kernels' scratch buffers (im2col workspaces, packed GEMM panels, Winograd's V and M,
// transformed filters), and where the large ones come from.
#if canImport(Glibc)
import Glibc
#endif

/// A 64-byte-aligned buffer of floats (at least one, so the pointer always exists); the
/// owner calls `deallocate`. Buffers of 256 KiB and more come from `ScratchPool`.
struct FloatBuffer {
  let base: UnsafeMutablePointer<Float>
  /// The bytes asked for (`count` floats).
  private let bytes: Int

  init(count: Int) {
    let count = max(1, count)
    bytes = count * MemoryLayout<Float>.stride
    let raw =
      ScratchPool.serves(bytes)
      ? ScratchPool.shared.allocate(bytes: bytes)
      : UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    base = raw.bindMemory(to: Float.self, capacity: count)
  }

  func deallocate() {
    if ScratchPool.serves(bytes) {
      ScratchPool.shared.release(UnsafeMutableRawPointer(base), bytes: bytes)
    } else {
      base.deallocate()
    }
  }
}

/// Large scratch buffers, mapped from the OS apart from the heap and kept for reuse.
///
/// The process serves even huge blocks from the heap (`ccnn_reuse_large_allocations`, so that
/// training steps do not page-fault on their activations). Then a scratch buffer of a few MB,
/// allocated between two of a network's 411 MB activations (VGG at 224², batch 32), would split
/// the hole the first one left, and the second would grow the heap instead: VGG-19's inference
/// peaked at 1,908 or 2,730 MB over runs of the same command. Mapped apart, the scratch never
/// lands in those holes: 1,907 MB in each of four runs when every buffer was unmapped on free,
/// 2,132 MB in each of three with the freed buffers kept (PyTorch: 2,630). They are kept, by
/// size class (four per power of two, at most 25 % over the size asked for), up to
/// `cachedLimit` bytes, so that the next call with the same shapes reuses them without page
/// faults. When a freed buffer does not fit under the limit, the size classes used least
/// recently are unmapped first, so that a workload whose sizes change keeps the buffers of
/// its current sizes rather than mapping and unmapping them on every call behind buffers it
/// no longer uses. (resnet101's batch-32-then-batch-1 inference fits under the limit either
/// way: 320 mappings in all, with this policy or without.)
///
/// On glibc only; elsewhere `serves` is false and the buffers come from the heap.
final class ScratchPool: @unchecked Sendable {
  static let shared = ScratchPool()

  /// Buffers from this size up come from the pool.
  static let minimumBytes = 1 << 18
  /// At most this many bytes of freed buffers are kept by `shared`.
  static let defaultCachedLimit = 256 << 20

  /// At most this many bytes of freed buffers are kept; beyond it the least recently used
  /// size classes are unmapped.
  let cachedLimit: Int

  init(cachedLimit: Int = ScratchPool.defaultCachedLimit) {
    self.cachedLimit = cachedLimit
    #if canImport(Glibc)
      pthread_mutex_init(mutex, nil)
    #endif
  }

  /// Whether a buffer of `bytes` comes from the pool.
  @inline(__always)
  static func serves(_ bytes: Int) -> Bool {
    #if canImport(Glibc)
      return bytes >= minimumBytes
    #else
      return false
    #endif
  }

  /// The mapped size for a request of `bytes`: whole pages, rounded up to one of the four
  /// sizes `(4 + i) · 2^(e − 2)` in each power of two `2^e`.
  static func sizeClass(_ bytes: Int) -> Int {
    let pages = (bytes + 4095) / 4096 * 4096
    let exponent = Int.bitWidth - 1 - pages.leadingZeroBitCount
    let step = max(4096, 1 << max(0, exponent - 2))
    return (pages + step - 1) / step * step
  }

  #if canImport(Glibc)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    /// A count of the allocations and releases so far, and its value at each size class's
    /// last one: the least recently used class has the smallest.
    private var clock: UInt64 = 0
    private var lastUse: [Int: UInt64] = [:]

    /// The bytes of freed buffers kept for reuse.
    var cached: Int { locked { cachedBytes } }

    /// How many freed buffers of `bytes`' size class are kept.
    func cachedCount(bytes: Int) -> Int { locked { free[Self.sizeClass(bytes)]?.count ?? 0 } }

    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
      let size = Self.sizeClass(bytes)
      let reused: UnsafeMutableRawPointer? = locked {
        touch(size)
        guard let pointer = free[size]?.popLast() else { return nil }
        cachedBytes -= size
        return pointer
      }
      if let reused { return reused }
      guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        mapped != MAP_FAILED
      else {
        fatalError("out of memory: could not map \(size) bytes of scratch (errno \(errno))")
      }
      return mapped
    }

    func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
      let size = Self.sizeClass(bytes)
      var evicted: [(pointer: UnsafeMutableRawPointer, size: Int)] = []
      let kept: Bool = locked {
        touch(size)
        guard size <= cachedLimit else { return false }
        while cachedBytes + size > cachedLimit, let oldest = leastRecentlyUsed(other: size) {
          evicted.append((free[oldest]!.removeLast(), oldest))
          if free[oldest]!.isEmpty { free[oldest] = nil }
          cachedBytes -= oldest
        }
        guard cachedBytes + size <= cachedLimit else { return false }
        free[size, default: []].append(pointer)
        cachedBytes += size
        return true
      }
      for buffer in evicted { munmap(buffer.pointer, buffer.size) }
      if !kept { munmap(pointer, size) }
    }

    /// Marks `size`'s class as the most recently used. Under the lock.
    private func touch(_ size: Int) {
      clock += 1
      lastUse[size] = clock
    }

    /// The size class, other than `size`, with kept buffers and the oldest last use. Under the lock.
    private func leastRecentlyUsed(other size: Int) -> Int? {
      free.filter { $0.key != size && !$0.value.isEmpty }.keys
        .min { lastUse[$0, default: 0] < lastUse[$1, default: 0] }
    }

    private func locked<R>(_ body: () -> R) -> R {
      pthread_mutex_lock(mutex)
      defer { pthread_mutex_unlock(mutex) }
      return body()
    }
  #else
    var cached: Int { 0 }
    func cachedCount(bytes: Int) -> Int { 0 }
    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
      UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }
    func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) { pointer.deallocate() }
  #endif
}
