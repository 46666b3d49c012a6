import CNNTensor

/// The output layer of the original LeNet-5 (LeCun et al. 1998, §II-B, eq. 7): one
/// Euclidean radial basis function unit per class, each the squared distance from the input
/// to a fixed code vector, `y_i = Σ_j (x_j − w_ij)²`.
///
/// Shape: input `[N, F]` → output `[N, K]`, with codes `[K, F]`.
///
/// The layer returns `−y_i`, the negative squared distance, so that the nearest code has the
/// largest score: `argmax` predicts as the paper does (the class whose code is closest), and
/// softmax cross-entropy on these scores is the paper's maximum a posteriori criterion
/// (eq. 9), `E = y_D + log Σ_i exp(−y_i)`, without its constant "rubbish class" term
/// `exp(−j)`. The gradient is `∂(−y_i)/∂x_j = −2(x_j − w_ij)`.
///
/// The codes are fixed, as in the paper ("chosen by hand and kept fixed"): a buffer
/// (`codes`), not a parameter, so no optimizer changes them. ``digitCodes(classes:)`` gives
/// the paper's kind of code, stylised 7×12 bitmaps of the digits, ±1 per pixel.
public final class EuclideanRBF: Layer {
  /// `[K, F]`: one code vector per class.
  public let codes: Buffer

  /// - Parameter codes: `[K, F]`, one row per class.
  public init(codes: Tensor) {
    precondition(codes.shape.rank == 2, "EuclideanRBF takes codes [K, F], got \(codes.shape)")
    self.codes = Buffer(codes)
  }

  public var ownBuffers: [(name: String, buffer: Buffer)] { [("codes", codes)] }

  public func outputShape(for input: Shape) throws(ShapeError) -> Shape {
    guard input.rank == 2, input[1] == codes.shape[1] else {
      throw ShapeError(
        layer: "EuclideanRBF", expected: "[N, \(codes.shape[1])]", got: input, reason: "one code entry per feature")
    }
    return [input[0], codes.shape[0]]
  }

  public func forward(_ input: Tensor, needsInputGradient: Bool) -> (output: Tensor, pullback: Pullback) {
    let k = codes.shape[0], f = codes.shape[1]
    precondition(
      input.shape.rank == 2 && input.shape[1] == f, "EuclideanRBF expects [N, \(f)], got \(input.shape)")
    let n = input.shape[0]
    let x = input.scalars, w = codes.value.scalars
    // output[n, i] = −Σ_j (x[n, j] − w[i, j])², summed in Double: the distances run into the
    // hundreds, and a Float sum of 84 squares would round each by about 1e-5 of that, which
    // drowns a numerical gradient check's central differences (the whole LeNet-5 then
    // checks WRONG at its input while the pullback is right).
    var output = [Float](repeating: 0, count: n * k)
    for row in 0..<n {
      for unit in 0..<k {
        var sum: Double = 0
        for j in 0..<f {
          let d = Double(x[row * f + j]) - Double(w[unit * f + j])
          sum += d * d
        }
        output[row * k + unit] = Float(-sum)
      }
    }
    let result = Tensor(shape: [n, k], scalars: output)
    return (result, { dOutput in
      guard needsInputGradient else { return Tensor(shape: [0], scalars: []) }
      // dInput[n, j] = Σ_i dOutput[n, i] · (−2)(x[n, j] − w[i, j])
      let g = dOutput.scalars
      var dInput = [Float](repeating: 0, count: n * f)
      for row in 0..<n {
        for unit in 0..<k {
          let scale = -2 * g[row * k + unit]
          for j in 0..<f { dInput[row * f + j] += scale * (x[row * f + j] - w[unit * f + j]) }
        }
      }
      return Tensor(shape: [n, f], scalars: dInput)
    })
  }
}

extension EuclideanRBF {
  /// The digits 0–9 as 7-wide, 12-tall bitmaps, in the spirit of the paper's Fig. 3 (its
  /// codes were stylised 7×12 images of the characters, so that confusable characters such
  /// as 1 and 7 get nearby codes and the network is not pushed to separate them sharply).
  // swift-format-ignore
  public static let digitBitmaps: [[String]] = [
    ["..###..", ".#...#.", ".#...#.", ".#..##.", ".#.#.#.", ".#.#.#.", ".##..#.", ".#...#.", ".#...#.", "..###.."],
    ["...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...", "...#...", "...#...", "...#...", ".#####."],
    ["..###..", ".#...#.", ".....#.", ".....#.", "....#..", "...#...", "..#....", ".#.....", ".#.....", ".#####."],
    ["..###..", ".#...#.", ".....#.", ".....#.", "...##..", ".....#.", ".....#.", ".....#.", ".#...#.", "..###.."],
    ["....#..", "...##..", "..#.#..", ".#..#..", ".#..#..", ".#####.", "....#..", "....#..", "....#..", "....#.."],
    [".#####.", ".#.....", ".#.....", ".####..", ".....#.", ".....#.", ".....#.", ".....#.", ".#...#.", "..###.."],
    ["...##..", "..#....", ".#.....", ".#.....", ".####..", ".#...#.", ".#...#.", ".#...#.", ".#...#.", "..###.."],
    [".#####.", ".....#.", ".....#.", "....#..", "....#..", "...#...", "...#...", "..#....", "..#....", "..#...."],
    ["..###..", ".#...#.", ".#...#.", ".#...#.", "..###..", ".#...#.", ".#...#.", ".#...#.", ".#...#.", "..###.."],
    ["..###..", ".#...#.", ".#...#.", ".#...#.", ".#...#.", "..####.", ".....#.", ".....#.", "....#..", ".###..."],
  ]

  /// Codes `[classes, 84]` for `classes` classes: class `i < 10` is the bitmap of digit `i`
  /// (``digitBitmaps`` with a blank row above and below, read row by row, ink `+1`, paper
  /// `−1`); any further class gets ±1 entries drawn from `SeededGenerator(seed: 1998)`, the
  /// same every time.
  public static func digitCodes(classes: Int) -> Tensor {
    precondition(classes > 0, "EuclideanRBF.digitCodes needs at least one class, got \(classes)")
    var values: [Float] = []
    var generator = SeededGenerator(seed: 1998)
    for label in 0..<classes {
      if label < digitBitmaps.count {
        let rows = ["......."] + digitBitmaps[label] + ["......."]
        values += rows.joined().map { $0 == "#" ? 1 : -1 }
      } else {
        values += (0..<84).map { _ in generator.next() & 1 == 1 ? 1 : -1 }
      }
    }
    return Tensor(shape: [classes, 84], scalars: values)
  }
}
