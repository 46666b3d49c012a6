import CNNKernels
import Testing

@testable import CNNVisualization

/// The numbers `cnn explain shape`, `pool --backward` and `col2im` print: the seeds' worked
/// examples and small cases checked by hand.
@Suite struct LayerArithmeticTests {
  /// Seeds 002/003: 28×28×1, F = 4, S = 2, P = 1, K = 64 → 14×14×64; F·F·C·K + K = 1,088.
  @Test func seedExample() throws {
    let layer = try LayerArithmetic(height: 28, width: 28, channels: 1, filter: 4, stride: 2, padding: 1, filters: 64)
    #expect(layer.outputHeight == 14 && layer.outputWidth == 14)
    #expect(layer.weightCount == 4 * 4 * 1 * 64)
    #expect(layer.parameterCount == 1_088)
    let text = Explain.layerArithmetic(layer)
    #expect(text.contains("14×14×64"), "\(text)")
    #expect(text.contains("F·F·C·K + K = 1,088"), "\(text)")
    #expect(text.contains("(28 + 2·1 - 4) / 2 + 1 = 26 / 2 + 1 = 14"), "\(text)")
    #expect(!text.contains("rounds down"), "\(text)")
  }

  /// Seed 001: a 3×3 convolution from 128 to 64 channels has 3·3·128·64 = 73,728 weights.
  @Test func oneTwentyEightToSixtyFourChannels() throws {
    let layer = try LayerArithmetic(height: 32, width: 32, channels: 128, filter: 3, stride: 1, padding: 1, filters: 64)
    #expect(layer.weightCount == 73_728)
    #expect(layer.outputHeight == 32)
    #expect(Explain.layerArithmetic(layer).contains("= 73,728"))
  }

  /// AlexNet C1 (seed 004): 227×227×3, 96 filters 11×11, stride 4 → 55×55×96, 34,944 parameters.
  @Test func alexNetFirstLayerAndAFlooredDivision() throws {
    let c1 = try LayerArithmetic(height: 227, width: 227, channels: 3, filter: 11, stride: 4, padding: 0, filters: 96)
    #expect(c1.outputHeight == 55 && c1.parameterCount == 34_944)
    // (7 − 2) / 2 = 2 remainder 1: the floor drops the last padded row.
    let odd = try LayerArithmetic(height: 7, width: 7, channels: 1, filter: 2, stride: 2, padding: 0, filters: 1)
    #expect(odd.outputHeight == 3)
    #expect(Explain.layerArithmetic(odd).contains("rounds down: the last 1 padded rows"))
  }

  @Test func numbersThatWouldBlowUpAreRefusedWithTheirRange() {
    #expect(throws: ExplainInputError("input height must be in 1...16384, got 100000")) {
      try LayerArithmetic(height: 100_000, width: 28, channels: 1, filter: 4, stride: 2, padding: 1, filters: 64)
    }
    #expect(throws: ExplainInputError.self) {
      try LayerArithmetic(height: 28, width: 28, channels: 1, filter: 4, stride: 2, padding: 4, filters: 64)
    }
    #expect(throws: ExplainInputError.self) {
      try LayerArithmetic(height: 28, width: 28, channels: 1, filter: 31, stride: 1, padding: 1, filters: 1)
    }
    // The largest accepted numbers stay far from overflow.
    let largest = try? LayerArithmetic(
      height: 16_384, width: 16_384, channels: 16_384, filter: 1_024, stride: 1, padding: 1_023, filters: 16_384)
    #expect(largest?.parameterCount == 1_024 * 1_024 * 16_384 * 16_384 + 16_384)
  }
}

@Suite struct PoolingBackwardTests {
  // The seed grid [[1,2,1,0],[0,1,2,3],[3,0,1,2],[2,4,0,1]], upstream gradient [[1,2],[3,4]].
  let upstream: [[Float]] = [[1, 2], [3, 4]]

  @Test func maxSendsEachGradientToItsWindowsMaximum() {
    let dInput = Explain.poolingGradient(grid: Explain.seedPoolingGrid, size: 2, stride: 2, mode: .max, dOutput: upstream)
    // Maxima: 2 at (0,1), 3 at (1,3), 4 at (3,1), 2 at (2,3).
    #expect(dInput == [[0, 1, 0, 0], [0, 0, 0, 2], [0, 0, 0, 4], [0, 3, 0, 0]])
  }

  @Test func averageSpreadsEachGradientByOneOverKSquared() {
    let dInput = Explain.poolingGradient(
      grid: Explain.seedPoolingGrid, size: 2, stride: 2, mode: .average, dOutput: upstream)
    #expect(dInput == [[0.25, 0.25, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5], [0.75, 0.75, 1, 1], [0.75, 0.75, 1, 1]])
  }

  @Test func minSendsEachGradientToItsWindowsMinimum() {
    let dInput = Explain.poolingGradient(grid: Explain.seedPoolingGrid, size: 2, stride: 2, mode: .min, dOutput: upstream)
    // Minima (first in scan order on ties): 0 at (1,0), 0 at (0,3), 0 at (2,1), 0 at (3,2).
    #expect(dInput == [[0, 0, 0, 2], [1, 0, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0]])
  }

  /// Overlapping windows (2×2, stride 1): the centre 9 wins all four windows and adds their gradients.
  @Test func overlappingWindowsAddUp() {
    let grid: [[Float]] = [[1, 2, 3], [4, 9, 5], [6, 7, 8]]
    let dInput = Explain.poolingGradient(grid: grid, size: 2, stride: 1, mode: .max, dOutput: upstream)
    #expect(dInput == [[0, 0, 0], [0, 10, 0], [0, 0, 0]])
    let text = Explain.poolingBackward(grid: grid, size: 2, stride: 1, modes: [.max, .average, .min])
    #expect(text.contains("max is 9 at (1, 1) -> it gets 4"), "\(text)")
    #expect(text.contains("matches pool2DBackward"), "\(text)")
    #expect(!text.contains("MISMATCH"), "\(text)")
  }

  @Test func explanationShowsEveryModeAndAgreesWithTheKernel() {
    let text = Explain.poolingBackward()
    for mode in ["max", "average", "min"] { #expect(text.contains("\(mode) pooling, backward:"), "\(text)") }
    #expect(text.contains("1 / 4 = 0.25 to each of its 4 cells"), "\(text)")
    #expect(text.components(separatedBy: "The routing by hand matches pool2DBackward.").count == 4, "\(text)")
    #expect(!text.contains("MISMATCH"), "\(text)")
  }
}

@Suite struct Col2ImTests {
  /// A 3×3 image, 2×2 filter, stride 1: four windows. Columns 1…16 fold back to
  /// (0,0) = 1, (0,1) = 2 + 5, (1,1) = 4 + 7 + 10 + 13, …, worked out by hand.
  @Test func foldAddsOverlappingColumns() {
    let geometry = Explain.col2imGeometry(channels: 1, size: 3, filter: 2, stride: 1, padding: 0)
    let folded = Explain.fold(columns: (1...16).map(Float.init), geometry: geometry)
    #expect(folded == [1, 7, 6, 12, 34, 22, 11, 27, 16])
    let text = Explain.col2im()
    #expect(text.contains("(1, 1): 4 + 7 + 10 + 13 = 34   (4 windows)"), "\(text)")
    #expect(text.contains("The sums by hand match col2im."), "\(text)")
    #expect(!text.contains("MISMATCH"), "\(text)")
  }

  /// With padding, entries that land in the padding are dropped: a 2×2 image, 2×2 filter,
  /// padding 1 has nine windows, and each pixel is covered by four of them.
  @Test func paddingEntriesAreDropped() {
    let geometry = Explain.col2imGeometry(channels: 1, size: 2, filter: 2, stride: 1, padding: 1)
    #expect(geometry.outputHeight == 3)
    let ones = [Float](repeating: 1, count: 9 * 4)
    #expect(Explain.fold(columns: ones, geometry: geometry) == [4, 4, 4, 4])
    let text = Explain.col2im(channels: 2, size: 2, filter: 2, stride: 1, padding: 1)
    #expect(text.contains("The sums by hand match col2im."), "\(text)")
  }

  @Test func sizesBeyondReadableAreRefusedWithTheRange() {
    #expect(throws: ExplainInputError("--size must be in 1...12, got 40")) {
      try Explain.checkCol2im(channels: 1, size: 40, filter: 2, stride: 1, padding: 0)
    }
    #expect(throws: ExplainInputError.self) {
      try Explain.checkCol2im(channels: 1, size: 3, filter: 1, stride: 1, padding: 2)
    }
    #expect(Explain.col2im(size: 40).hasPrefix("Cannot fold: --size must be in 1...12"))
  }
}
