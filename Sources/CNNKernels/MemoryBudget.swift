// The most memory one command may plan to use, checked before anything large is allocated.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The memory a command may plan to use, and the check that refuses a plan beyond it.
///
/// Sizes that come from a file or a flag (a checkpoint's input shape, `--image-size`, a
/// PNG's header, `--scale`) are well-formed numbers that can still ask for terabytes. Before a
/// model, a dataset or a buffer is built from one, its cost is computed with overflow-checked
/// arithmetic (``bytes(_:)``) and passed to ``check(_:for:from:)``, which throws a
/// ``MemoryBudgetError`` naming the value and where it came from instead of trapping in the
/// allocator.
///
/// The budget is half the machine's physical memory, or `CNN_MEMORY_LIMIT` gigabytes when that
/// environment variable holds a positive number (`CNN_MEMORY_LIMIT=64 cnn train …`).
///
///     let cost = MemoryBudget.bytes([height, width, channels])           // nil on overflow
///     try MemoryBudget.check(cost, for: "the decoded image", from: "scan.png (3000×2000)")
public enum MemoryBudget {
  /// The environment variable that sets the budget, in gigabytes (10⁹ bytes; `0.5` allowed).
  public static let environmentVariable = "CNN_MEMORY_LIMIT"

  /// The machine's physical memory in bytes, or `nil` when the system does not say.
  public static var physicalMemory: Int? {
    #if canImport(Glibc) || canImport(Darwin)
      let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
      guard pages > 0, pageSize > 0 else { return nil }
      return Int(pages).multipliedReportingOverflow(by: Int(pageSize)).partialValue
    #else
      return nil
    #endif
  }

  /// The budget in bytes: `CNN_MEMORY_LIMIT` gigabytes when set, else half of
  /// ``physicalMemory`` (8 GB when that is unknown).
  public static var limit: Int {
    if let text = environmentValue, let gigabytes = Double(text), gigabytes.isFinite, gigabytes > 0 {
      return gigabytes >= Double(Int.max) / 1e9 ? Int.max : Int(gigabytes * 1e9)
    }
    return (physicalMemory ?? 16_000_000_000) / 2
  }

  /// Where ``limit`` came from, for messages.
  public static var limitSource: String {
    if let text = environmentValue, let gigabytes = Double(text), gigabytes.isFinite, gigabytes > 0 {
      return "\(environmentVariable)=\(text)"
    }
    return "half of the physical memory"
  }

  private static var environmentValue: String? {
    guard let pointer = getenv(environmentVariable) else { return nil }
    return String(cString: pointer)
  }

  /// The product of `factors`, or `nil` when one is negative or the product overflows `Int`.
  ///
  /// Multiply element counts by the element size here: `bytes([n, c, h, w, 4])`.
  public static func bytes(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
      guard factor >= 0 else { return nil }
      let (next, overflow) = product.multipliedReportingOverflow(by: factor)
      if overflow { return nil }
      product = next
    }
    return product
  }

  /// The sum of `terms`, or `nil` when one is `nil` or the sum overflows `Int`.
  public static func sum(_ terms: [Int?]) -> Int? {
    var total = 0
    for term in terms {
      guard let term else { return nil }
      let (next, overflow) = total.addingReportingOverflow(term)
      if overflow { return nil }
      total = next
    }
    return total
  }

  /// Refuses a plan that needs more than ``limit`` bytes (or an overflowing, `nil`, amount).
  ///
  /// - Parameters:
  ///   - bytes: What the plan needs, from ``bytes(_:)``; `nil` when that overflowed.
  ///   - what: What would be built (`"the model's weights"`).
  ///   - source: The value and where it came from (`"input_shape [1, 4096, 4096] in run.safetensors"`).
  /// - Throws: ``MemoryBudgetError`` saying all three, the budget and how to raise it.
  public static func check(_ bytes: Int?, for what: String, from source: String) throws(MemoryBudgetError) {
    let limit = limit
    guard let bytes, bytes <= limit else {
      throw MemoryBudgetError(what: what, source: source, bytes: bytes, limit: limit, limitSource: limitSource)
    }
  }

  /// `1.5 GB`, `512 MB`, `12 kB`: bytes in decimal units, for messages.
  public static func format(_ bytes: Int) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    if unit == 0 { return "\(bytes) bytes" }
    let tenths = (value * 10).rounded() / 10
    return "\(tenths) \(units[unit])"
  }
}

/// A plan that needs more memory than ``MemoryBudget/limit``, named with the value behind it.
public struct MemoryBudgetError: Error, CustomStringConvertible, Sendable, Equatable {
  /// What would have been built.
  public var what: String
  /// The value that sized it and where it came from.
  public var source: String
  /// The bytes needed, or `nil` when computing them overflowed.
  public var bytes: Int?
  /// The budget in bytes.
  public var limit: Int
  /// Where the budget came from (`half of the physical memory`, `CNN_MEMORY_LIMIT=4`).
  public var limitSource: String

  public var description: String { "\(problem)\n---> HINT: \(hint)" }

  /// What was refused: `lenet5's weights and gradients need 32.1 GB (from …), over the memory budget of 11.8 GB (…).`
  public var problem: String {
    let needed = bytes.map { "need \(MemoryBudget.format($0))" } ?? "need more bytes than a 64-bit count can hold"
    return "\(what) would \(needed) (from \(source)), over the memory budget of \(MemoryBudget.format(limit)) "
      + "(\(limitSource))."
  }

  /// How to go on.
  public var hint: String {
    "check that value (a typo, or a damaged file?); to allow more, set \(MemoryBudget.environmentVariable) "
      + "to a number of gigabytes."
  }
}
