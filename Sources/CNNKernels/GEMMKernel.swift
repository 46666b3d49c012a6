// The GEMM micro-kernels and the cache blocking that goes with each.
import CCNNKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A register-blocked micro-kernel: `C[m×n] = alpha · Ap · Bp + beta · C` for one tile,
/// `m ≤ mr`, `n ≤ nr`, with packed panels `Ap` (`kc × mr`) and `Bp` (`kc × nr`).
///
/// Arguments: `kc, a, b, c, ldc, m, n, alpha, beta`. With `beta == 0`, C is not read.
typealias GEMMMicroKernel =
  @convention(c) (
    Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int,
    Int, Int, Float, Float
  ) -> Void

/// The micro-kernel `gemm` runs in its innermost loop, and its tile and block sizes.
///
/// `current` is the fastest one this CPU supports, chosen once (at first use) by CPUID:
///
/// | Kernel      | Tile MR × NR | MC  | KC  | NC   | Registers                          |
/// |-------------|--------------|-----|-----|------|------------------------------------|
/// | `avx512`    | 14 × 32      | 168 | 384 | 4096 | 28 zmm accumulators (of 32)        |
/// | `avx2`      | 6 × 16       | 144 | 384 | 4096 | 12 ymm accumulators (of 16)        |
/// | `portable`  | 6 × 16       | 144 | 384 | 4096 | six `SIMD16<Float>` (24 NEON q)    |
///
/// The blocks follow the GotoBLAS/BLIS recipe, sized for an Ice Lake server core
/// (48 KB L1d, 1.25 MB L2, large shared L3):
/// - `KC` (depth of every packed block): long, so that each C tile is loaded and stored
///   only `k / KC` times. The AVX-512 tile needs 184 bytes of packed A and B per 28 FMAs
///   (about 13 B/cycle), which L2 supplies easily, so the B micro-panel (`KC × NR`, 48 KB)
///   need not fit in L1; 384 measured best among 192 … 512.
/// - `MC` (rows of the packed A block): `MC × KC` floats (168 × 384 × 4 B = 258 KB) stay in
///   L2 while every B micro-panel of the column block runs against them, with room left
///   for the B micro-panel and the C tiles passing through.
/// - `NC` (columns of the packed B panel): `KC × NC` floats (6 MB at most, usually less:
///   each thread packs only its own columns) live in L3 and are reused by every A block,
///   so A is repacked only every NC columns.
/// When a thread's rows fit in one A block (convolution: m = output channels), B is not
/// packed as a panel at all but a few strips at a time, right before use (see
/// `GEMMDriver.run`).
public enum GEMMKernel: String, Sendable, CaseIterable, CustomStringConvertible {
  /// AVX-512F + FMA (x86_64), written in C with intrinsics.
  case avx512
  /// AVX2 + FMA (x86_64), written in C with intrinsics.
  case avx2
  /// Portable Swift SIMD, for every other CPU (arm64 included).
  case portable

  /// The kernel `gemm` uses, chosen once, at first use: the widest this CPU supports, or
  /// `CNN_GEMM_KERNEL` from the environment (`avx512`, `avx2` or `portable`) when it names
  /// one the CPU supports, e.g. to compare them with `cnn benchmark`.
  ///
  /// (On an AMD EPYC Zen 4, which runs 512-bit instructions as two 256-bit halves, AVX2 and
  /// AVX-512 trained SimpleConvNet equally fast within the machine's noise: 9.5 s against
  /// 9.9 s for two Fashion-MNIST epochs, three runs each, interleaved.)
  public static let current: GEMMKernel = {
    guard let text = getenv("CNN_GEMM_KERNEL").map({ String(cString: $0) }), !text.isEmpty else { return widest }
    if let chosen = GEMMKernel(rawValue: text), chosen.isSupported { return chosen }
    let supported = allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", ")
    let warning = "warning: CNN_GEMM_KERNEL=\(text) is not a kernel this CPU runs (\(supported)); using \(widest).\n"
    _ = warning.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    return widest
  }()

  /// The widest kernel this CPU (and OS) supports, by CPUID.
  static let widest: GEMMKernel = {
    switch ccnn_best_isa() {
    case Int32(CCNN_ISA_AVX512): return .avx512
    case Int32(CCNN_ISA_AVX2): return .avx2
    default: return .portable
    }
  }()

  /// Whether this CPU can run the kernel.
  public var isSupported: Bool {
    switch self {
    case .avx512: return GEMMKernel.widest == .avx512
    case .avx2: return GEMMKernel.widest == .avx512 || GEMMKernel.widest == .avx2
    case .portable: return true
    }
  }

  /// The kernel's name: `avx512`, `avx2` or `portable`.
  public var description: String { rawValue }

  /// Rows of the register tile (A values broadcast per reduction step).
  var mr: Int {
    switch self {
    case .avx512: return 14
    case .avx2, .portable: return 6
    }
  }

  /// Columns of the register tile (the SIMD direction; a multiple of the vector width).
  var nr: Int {
    switch self {
    case .avx512: return 32
    case .avx2, .portable: return 16
    }
  }

  /// Rows of the packed A block, MC (a multiple of `mr`): the A block (MC × KC floats) fills a
  /// quarter of the L2 cache found at run time (168 rows for either kernel with a 1 MiB L2),
  /// or `mr` × 12 (AVX-512) or × 24 when the size is unknown. `CNN_GEMM_MC` in the environment
  /// overrides it. (Rows do not change the order of any sum: only KC does.)
  var mc: Int {
    if let rows = GEMMBlocking.rows { return roundUp(rows, to: mr) }
    guard let l2 = CacheSizes.found.level2 else { return mr * (self == .avx512 ? 12 : 24) }
    return min(max(l2 / 4 / (kc * 4) / mr, 4), 64) * mr
  }

  /// Depth of the packed blocks, KC; long, to touch each C tile rarely (`CNN_GEMM_KC`
  /// overrides it).
  var kc: Int { GEMMBlocking.depth ?? 384 }

  /// Columns of the packed B panel, NC (a multiple of `nr`): the B panel (KC × NC floats) in
  /// at most a quarter of the L3 cache found at run time, and at most 4096 (`CNN_GEMM_NC`
  /// overrides it).
  var nc: Int {
    if let columns = GEMMBlocking.columns { return roundUp(columns, to: nr) }
    guard let l3 = CacheSizes.found.level3 else { return 4096 }
    return min(max(l3 / 4 / (kc * 4) / nr, 16) * nr, 4096)
  }

  /// The C (or Swift) function for one tile.
  var microKernel: GEMMMicroKernel {
    switch self {
    #if arch(x86_64)
      case .avx512: return ccnn_sgemm_avx512_14x32
      case .avx2: return ccnn_sgemm_avx2_6x16
    #else
      case .avx512, .avx2: preconditionFailure("GEMM kernel \(self) needs x86_64")
    #endif
    case .portable: return portableMicroKernel
    }
  }
}

/// Block sizes given in the environment (read once), to measure others than the defaults:
/// `CNN_GEMM_MC=84 CNN_GEMM_KC=512 cnn benchmark --only sgemm`.
enum GEMMBlocking {
  static let rows = value("CNN_GEMM_MC")
  static let depth = value("CNN_GEMM_KC")
  static let columns = value("CNN_GEMM_NC")

  private static func value(_ name: String) -> Int? {
    guard let text = getenv(name), let value = Int(String(cString: text)), value > 0 else { return nil }
    return value
  }
}

/// The data caches' sizes in bytes, as the OS reports them (`sysconf` on glibc, `sysctl` on
/// Darwin); `nil` when it does not say.
struct CacheSizes {
  /// Per core.
  var level2: Int?
  /// Shared.
  var level3: Int?

  /// This machine's, read once.
  static let found: CacheSizes = {
    #if canImport(Glibc)
      let known = { (value: Int) in value > 0 ? value : nil }
      return CacheSizes(
        level2: known(sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))), level3: known(sysconf(Int32(_SC_LEVEL3_CACHE_SIZE))))
    #elseif canImport(Darwin)
      func read(_ name: String) -> Int? {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        return sysctlbyname(name, &value, &size, nil, 0) == 0 && value > 0 ? Int(value) : nil
      }
      return CacheSizes(level2: read("hw.l2cachesize"), level3: read("hw.l3cachesize"))
    #else
      return CacheSizes(level2: nil, level3: nil)
    #endif
  }()
}
