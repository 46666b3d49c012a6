import Testing

@testable import CNNKernels

/// The budget's arithmetic: products and sums that overflow are `nil`, never a trap, and a
/// plan over the budget is refused with the value, its source and the way to raise it.
@Suite struct MemoryBudgetTests {
  @Test func productsAndSumsAreOverflowChecked() {
    #expect(MemoryBudget.bytes([3, 4, 5]) == 60)
    #expect(MemoryBudget.bytes([]) == 1)
    #expect(MemoryBudget.bytes([1 << 62, 4]) == nil)
    #expect(MemoryBudget.bytes([2, -1]) == nil)
    #expect(MemoryBudget.sum([1, 2, 3]) == 6)
    #expect(MemoryBudget.sum([Int.max, 1]) == nil)
    #expect(MemoryBudget.sum([1, nil]) == nil)
  }

  @Test func theDefaultIsAFractionOfPhysicalMemory() {
    #expect(MemoryBudget.limit > 0)
    if let physical = MemoryBudget.physicalMemory, getenvIsUnset {
      #expect(MemoryBudget.limit == physical / 2)
    }
  }

  @Test func aPlanOverTheBudgetIsRefusedNamingItsSource() throws {
    try MemoryBudget.check(1000, for: "a small buffer", from: "a test")
    let error = #expect(throws: MemoryBudgetError.self) {
      try MemoryBudget.check(Int.max, for: "the weights", from: "input_shape [1, 4096, 4096] in run.safetensors")
    }
    let text = error?.description ?? ""
    #expect(text.contains("the weights") && text.contains("input_shape [1, 4096, 4096] in run.safetensors"))
    #expect(text.contains("memory budget") && text.contains("CNN_MEMORY_LIMIT") && text.contains("HINT"))
    let overflow = #expect(throws: MemoryBudgetError.self) { try MemoryBudget.check(nil, for: "x", from: "y") }
    #expect(overflow?.bytes == nil && overflow?.description.contains("64-bit") == true)
  }

  @Test func sizesAreFormattedInDecimalUnits() {
    #expect(MemoryBudget.format(512) == "512 bytes")
    #expect(MemoryBudget.format(1_500_000_000) == "1.5 GB")
    #expect(MemoryBudget.format(22_000_000_000_000) == "22.0 TB")
  }

  private var getenvIsUnset: Bool {
    MemoryBudget.limitSource == "half of the physical memory"
  }
}
