import RealModule

/// A fast, seedable random number generator (xoshiro256**, seeded through splitmix64).
///
/// The same seed gives the same sequence on every machine, so `cnn train --seed 42`
/// reproduces a run bit for bit. Its `state` can be saved and restored to resume a run.
public struct SeededGenerator: RandomNumberGenerator, Hashable, Sendable {
  /// The four words of xoshiro256** state.
  public var state: (UInt64, UInt64, UInt64, UInt64) {
    get { (s0, s1, s2, s3) }
    set { (s0, s1, s2, s3) = newValue }
  }
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  /// Creates a generator whose sequence is fixed by `seed`.
  public init(seed: UInt64) {
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitmix()
    s1 = splitmix()
    s2 = splitmix()
    s3 = splitmix()
  }

  public mutating func next() -> UInt64 {
    let result = rotate(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotate(s3, 45)
    return result
  }

  private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public static func == (lhs: Self, rhs: Self) -> Bool { lhs.state == rhs.state }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(s0)
    hasher.combine(s1)
    hasher.combine(s2)
    hasher.combine(s3)
  }
}

extension RandomNumberGenerator {
  /// A uniform `Float` in `[0, 1)` with 24 random bits.
  @inlinable
  public mutating func nextUniform() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// A standard normal sample (Box–Muller on 24-bit uniforms; deterministic per seed).
  @inlinable
  public mutating func nextNormal() -> Float {
    var u1 = nextUniform()
    while u1 <= 0 { u1 = nextUniform() }
    let u2 = nextUniform()
    return (-2 * Float.log(u1)).squareRoot() * Float.cos(2 * Float.pi * u2)
  }
}
