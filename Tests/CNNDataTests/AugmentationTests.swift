import CNNTensor
import Testing

@testable import CNNData

/// Runs `body` on a mutable copy of `values` and returns it.
private func transformed(_ values: [Float], _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
  var image = values
  var scratch = [Float](repeating: 0, count: values.count)
  image.withUnsafeMutableBufferPointer { image in
    scratch.withUnsafeMutableBufferPointer { scratch in body(image, scratch) }
  }
  return image
}

@Suite struct AugmentationTests {
  @Test func flipReversesEveryRowOfEveryChannel() {
    // 1 × 2 × 3: rows [1 2 3] and [4 5 6].
    let flipped = transformed([1, 2, 3, 4, 5, 6]) { image, _ in
      Augmentation.flipHorizontally(image, channels: 1, height: 2, width: 3)
    }
    #expect(flipped == [3, 2, 1, 6, 5, 4])
    let colour = transformed([1, 2, 3, 4, 5, 6]) { image, _ in
      Augmentation.flipHorizontally(image, channels: 3, height: 1, width: 2)
    }
    #expect(colour == [2, 1, 4, 3, 6, 5])
  }

  @Test func cropWithPaddingShiftsAndFillsWithZero() {
    // 3 × 3: 1…9. A crop at offset (P + 1, P − 1) reads in[y − 1][x + 1].
    let shifted = transformed((1...9).map(Float.init)) { image, scratch in
      Augmentation.shift(image, dx: 1, dy: -1, channels: 1, height: 3, width: 3, scratch: scratch)
    }
    #expect(shifted == [0, 0, 0, 2, 3, 0, 5, 6, 0])
    let same = transformed((1...9).map(Float.init)) { image, scratch in
      Augmentation.shift(image, dx: 0, dy: 0, channels: 1, height: 3, width: 3, scratch: scratch)
    }
    #expect(same == (1...9).map(Float.init))
  }

  @Test func randomCropStaysWithinThePadding() {
    var generator = SeededGenerator(seed: 3)
    let image = (1...25).map(Float.init)  // 5 × 5
    var offsets: Set<[Float]> = []
    for _ in 0..<200 {
      let out = transformed(image) { image, scratch in
        Augmentation.crop(padding: 1).apply(to: image, channels: 1, height: 5, width: 5, scratch: scratch, using: &generator)
      }
      // The centre pixel shows which source pixel it came from: a shift of at most 1 each way.
      let centre = Int(out[12]) - 1
      #expect(abs(centre / 5 - 2) <= 1 && abs(centre % 5 - 2) <= 1)
      offsets.insert(out)
    }
    #expect(offsets.count == 9)  // all 3 × 3 offsets occur
  }

  @Test func brightnessAndContrastArithmetic() {
    let brighter = transformed([0.2, 0.5, 0.8]) { image, _ in Augmentation.adjustBrightness(image, factor: 1.5) }
    #expect(brighter.map { ($0 * 1000).rounded() } == [300, 750, 1000])  // 1.2 clamps to 1
    // Grey mean 0.5: x ← 0.5·x + 0.25.
    let flatter = transformed([0.2, 0.5, 0.8]) { image, _ in Augmentation.adjustContrast(image, factor: 0.5, channels: 1) }
    #expect(flatter.map { ($0 * 1000).rounded() } == [350, 500, 650])
    // RGB uses the luma mean: planes 1, 0, 0 → mean 0.299.
    let rgb = transformed([1, 0, 0]) { image, _ in Augmentation.adjustContrast(image, factor: 0, channels: 3) }
    #expect(rgb.allSatisfy { abs($0 - 0.299) < 1e-6 })
    // The random factors stay in [1 − b, 1 + b].
    var generator = SeededGenerator(seed: 1)
    for _ in 0..<100 {
      let f = Augmentation.factor(0.2, using: &generator)
      #expect(f >= 0.8 && f <= 1.2)
    }
  }

  @Test func scaleZoomsAboutTheCentre() {
    // 1 × 1 × 4 row [0 1 1 0] zoomed ×2 keeps the centre pair bright and samples between.
    let zoomed = transformed([0, 1, 1, 0]) { image, scratch in
      Augmentation.rescale(image, factor: 2, channels: 1, height: 1, width: 4, scratch: scratch)
    }
    // Output x reads input (x + 0.5 − 2)/2 + 1.5: 0.75, 1.25, 1.75, 2.25 → 0.75, 1, 1, 0.75 along
    // the row, times the vertical weight of the single row (sampled at y = 0, exactly).
    #expect(zoomed == [0.75, 1, 1, 0.75])
    let same = transformed([0, 1, 1, 0]) { image, scratch in
      Augmentation.rescale(image, factor: 1, channels: 1, height: 1, width: 4, scratch: scratch)
    }
    #expect(same == [0, 1, 1, 0])
  }

  @Test func flipHappensAboutHalfTheTimeAndIsSeeded() {
    func flips(seed: UInt64) -> [Bool] {
      var generator = SeededGenerator(seed: seed)
      return (0..<400).map { _ in
        transformed([1, 2]) { image, scratch in
          Augmentation.horizontalFlip.apply(to: image, channels: 1, height: 1, width: 2, scratch: scratch, using: &generator)
        } == [2, 1]
      }
    }
    let count = flips(seed: 9).filter { $0 }.count
    #expect(count > 160 && count < 240)
    #expect(flips(seed: 9) == flips(seed: 9))
  }

  @Test func parsesTheCommandLineSpelling() throws {
    let pipeline = try AugmentationPipeline(parsing: "flip,crop=4,brightness=0.2,contrast=0.2,scale=0.1")
    #expect(pipeline.steps == [.horizontalFlip, .crop(padding: 4), .brightness(0.2), .contrast(0.2), .scale(0.1)])
    #expect(try AugmentationPipeline(parsing: pipeline.description) == pipeline)
    #expect(try AugmentationPipeline(parsing: "none").isEmpty)
    #expect(throws: AugmentationError.self) { try AugmentationPipeline(parsing: "flip,rotate=10") }
    #expect(throws: AugmentationError.self) { try AugmentationPipeline(parsing: "crop") }
    #expect(throws: AugmentationError.self) { try AugmentationPipeline(parsing: "brightness=2") }
    // Parts with an empty name or value (the command-line fuzzer's find: "=" trapped).
    for text in ["=", "flip,=", "=4", "crop=", "flip="] {
      #expect(throws: AugmentationError.self, "\(text)") { try AugmentationPipeline(parsing: text) }
    }
  }
}
