import Testing

@testable import CNNTensor

@Suite struct TensorTests {
  @Test func indexingIsRowMajorNCHW() {
    let t = Tensor(shape: [2, 3, 4, 5], scalars: (0..<120).map(Float.init))
    #expect(t[1, 2, 3, 4] == 119)
    #expect(t[0, 1, 0, 0] == 20)
    #expect(t[1, 0, 2, 1] == Float(60 + 2 * 5 + 1))
  }

  @Test func valueSemantics() {
    let a = Tensor(repeating: 1, shape: [2, 2])
    var b = a
    b[0, 0] = 5
    #expect(a[0, 0] == 1)
    #expect(b[0, 0] == 5)
  }

  @Test func arithmeticAndReshape() {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor(repeating: 2, shape: [2, 3])
    #expect((a + b).scalars == [3, 4, 5, 6, 7, 8])
    #expect((a * b).scalars == [2, 4, 6, 8, 10, 12])
    #expect((a - b).sum() == 9)
    #expect(a.reshaped([3, 2]).shape == [3, 2])
    #expect(a.reshaped([6]).scalars == a.scalars)
  }

  @Test func shapeArithmetic() {
    let s: Shape = [100, 1, 28, 28]
    #expect(s.scalarCount == 78_400)
    #expect(s.rank == 4)
    #expect(s.description == "[100, 1, 28, 28]")
    #expect(Shape([]).scalarCount == 1)
  }

  @Test func seededGeneratorIsDeterministicAndSeedDependent() {
    var a = SeededGenerator(seed: 42)
    var b = SeededGenerator(seed: 42)
    var c = SeededGenerator(seed: 43)
    let sequenceA = (0..<5).map { _ in a.next() }
    #expect(sequenceA == (0..<5).map { _ in b.next() })
    #expect(sequenceA != (0..<5).map { _ in c.next() })
    // Restoring the state replays the sequence.
    let saved = a.state
    let next = a.next()
    a.state = saved
    #expect(a.next() == next)
  }

  @Test func normalSamplesHaveTheRightMoments() {
    var g = SeededGenerator(seed: 1)
    let t = Tensor.randomNormal([20_000], mean: 1, standardDeviation: 2, using: &g)
    let mean = t.sum() / 20_000
    let variance = t.scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 20_000
    #expect(abs(mean - 1) < 0.05)
    #expect(abs(variance.squareRoot() - 2) < 0.05)
    let u = Tensor.randomUniform([20_000], in: -1..<3, using: &g)
    #expect(u.scalars.allSatisfy { $0 >= -1 && $0 < 3 })
    #expect(abs(u.sum() / 20_000 - 1) < 0.05)
  }

  @Test func shapeMismatchTrapsWithBothShapes() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor.zeros([2, 3]) + Tensor.zeros([3, 2])
    }
  }
}
