import CNNData
import CNNKernels
import CNNLayers
import CNNModels
import CNNOptimizers
import CNNTensor
import CNNTraining

/// One figure of `cnn benchmark`; `--json` writes it as `{"name":…,"unit":"GF/s","value":171.3}`.
public struct Measurement: Encodable, Sendable {
  /// Says the operation and the shape: `conv forward N64 C64->64 56x56 k3 s1 p1`.
  public var name: String
  public var value: Double
  /// `GF/s` or `images/s`.
  public var unit: String
}

/// A named measurement, run on demand.
public struct BenchmarkSuite {
  public var name: String
  public var run: () -> Measurement
}

/// The measurements of `cnn benchmark`: GEMM, convolution and SimpleConvNet training, on the
/// shapes `../shared/bench/bench_torch.py` times in PyTorch, so the two can be compared side by side.
public enum KernelBenchmarks {
  /// A convolution shape of the benchmark (the same as `bench_torch.py`'s W4).
  struct ConvShape {
    var n: Int, c: Int, k: Int, h: Int, w: Int, kernel: Int, stride: Int, padding: Int

    var geometry: ConvGeometry {
      ConvGeometry(
        batch: n, inputChannels: c, inputHeight: h, inputWidth: w, kernelHeight: kernel, kernelWidth: kernel,
        strideHeight: stride, strideWidth: stride, padTop: padding, padBottom: padding, padLeft: padding,
        padRight: padding)
    }

    /// `2·N·K·OH·OW·C·KH·KW`: the multiply-adds of the forward pass, counted as two FLOPs each.
    var forwardFLOPs: Double {
      let g = geometry
      return 2 * Double(n * k) * Double(g.outputPlaneSize) * Double(c * kernel * kernel)
    }

    var label: String { "N\(n) C\(c)->\(k) \(h)x\(w) k\(kernel) s\(stride) p\(padding)" }
  }

  static let convShapes = [
    ConvShape(n: 100, c: 1, k: 30, h: 28, w: 28, kernel: 5, stride: 1, padding: 0),
    ConvShape(n: 64, c: 64, k: 64, h: 56, w: 56, kernel: 3, stride: 1, padding: 1),
    ConvShape(n: 32, c: 3, k: 96, h: 227, w: 227, kernel: 11, stride: 4, padding: 0),
    // Smaller maps, batch 128: 16x16 and 8x8 (VGG's and ResNet-18's middle stages on 32x32
    // images), then ResNet-18's last two stages on 32x32 CIFAR images.
    ConvShape(n: 128, c: 128, k: 128, h: 16, w: 16, kernel: 3, stride: 1, padding: 1),
    ConvShape(n: 128, c: 64, k: 64, h: 8, w: 8, kernel: 3, stride: 1, padding: 1),
    ConvShape(n: 128, c: 256, k: 256, h: 4, w: 4, kernel: 3, stride: 1, padding: 1),
    ConvShape(n: 128, c: 512, k: 512, h: 2, w: 2, kernel: 3, stride: 1, padding: 1),
  ]

  /// Every measurement, each timing blocks of at least `minTime` seconds, `repeats` times.
  public static func all(minTime: Double, repeats: Int) -> [BenchmarkSuite] {
    var suites: [BenchmarkSuite] = []
    for size in [512, 1024, 2048] {
      suites.append(BenchmarkSuite(name: "sgemm \(size)x\(size)x\(size)") {
        sgemm(size: size, minTime: minTime, repeats: repeats)
      })
    }
    suites.append(BenchmarkSuite(name: "sgemv 1x4096x25088") {
      sgemv(rows: 4096, columns: 25088, minTime: minTime, repeats: repeats)
    })
    for shape in convShapes {
      suites.append(BenchmarkSuite(name: "conv forward \(shape.label)") {
        convolution(shape, backward: false, minTime: minTime, repeats: repeats)
      })
      suites.append(BenchmarkSuite(name: "conv forward+backward \(shape.label)") {
        convolution(shape, backward: true, minTime: minTime, repeats: repeats)
      })
    }
    suites.append(BenchmarkSuite(name: "train simple-convnet batch 100") {
      training(minTime: minTime, repeats: repeats)
    })
    return suites
  }

  /// The median seconds per call of `body`, over `repeats` blocks of at least `minTime` seconds.
  static func secondsPerCall(minTime: Double, repeats: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    for _ in 0..<2 { body() }
    let once = clock.measure(body).seconds
    let calls = max(1, Int(minTime / max(once, 1e-9)))
    var blocks: [Double] = []
    for _ in 0..<repeats {
      let elapsed = clock.measure { for _ in 0..<calls { body() } }.seconds
      blocks.append(elapsed / Double(calls))
    }
    return blocks.sorted()[blocks.count / 2]
  }

  static func sgemm(size: Int, minTime: Double, repeats: Int) -> Measurement {
    var generator = SeededGenerator(seed: 1)
    let a = Tensor.randomNormal([size, size], using: &generator)
    let b = Tensor.randomNormal([size, size], using: &generator)
    var c = Tensor.zeros([size, size])
    let seconds = a.withPointer { a in
      b.withPointer { b in
        c.withMutablePointer { c in
          secondsPerCall(minTime: minTime, repeats: repeats) {
            gemm(m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size, c: c, ldc: size)
          }
        }
      }
    }
    return Measurement(name: "sgemm \(size)x\(size)x\(size)", value: 2 * pow3(size) / seconds / 1e9, unit: "GF/s")
  }

  /// One image through VGG's first dense layer: `y [1, rows] = x [1, columns] · Wᵀ`, W stored
  /// `[rows, columns]` (411 MB, streamed from memory each call), in GB/s of W read.
  static func sgemv(rows: Int, columns: Int, minTime: Double, repeats: Int) -> Measurement {
    var generator = SeededGenerator(seed: 1)
    let x = Tensor.randomNormal([1, columns], using: &generator)
    let w = Tensor.randomNormal([rows, columns], using: &generator)
    var y = Tensor.zeros([1, rows])
    let seconds = x.withPointer { x in
      w.withPointer { w in
        y.withMutablePointer { y in
          secondsPerCall(minTime: minTime, repeats: repeats) {
            gemm(transposeB: true, m: 1, n: rows, k: columns, a: x, lda: columns, b: w, ldb: columns, c: y, ldc: rows)
          }
        }
      }
    }
    let bytes = Double(rows) * Double(columns) * Double(MemoryLayout<Float>.size)
    return Measurement(name: "sgemv 1x\(rows)x\(columns)", value: bytes / seconds / 1e9, unit: "GB/s")
  }

  static func convolution(_ shape: ConvShape, backward: Bool, minTime: Double, repeats: Int) -> Measurement {
    var generator = SeededGenerator(seed: 1)
    let g = shape.geometry
    let input = Tensor.randomNormal([shape.n, shape.c, shape.h, shape.w], using: &generator)
    let weight = Tensor.randomNormal([shape.k, shape.c, shape.kernel, shape.kernel], standardDeviation: 0.01, using: &generator)
    let bias = Tensor.zeros([shape.k])
    let dOutput = Tensor.randomNormal([shape.n, shape.k, g.outputHeight, g.outputWidth], using: &generator)
    var output = Tensor.zeros(dOutput.shape)
    var dInput = Tensor.zeros(input.shape)
    var dWeight = Tensor.zeros(weight.shape)
    var dBias = Tensor.zeros(bias.shape)
    let seconds = input.withPointer { x in
      weight.withPointer { w in
        bias.withPointer { b in
          dOutput.withPointer { dy in
            output.withMutablePointer { y in
              dInput.withMutablePointer { dx in
                dWeight.withMutablePointer { dw in
                  dBias.withMutablePointer { db in
                    secondsPerCall(minTime: minTime, repeats: repeats) {
                      conv2DForward(input: x, weight: w, bias: b, output: y, geometry: g, outputChannels: shape.k)
                      if backward {
                        conv2DBackward(
                          input: x, weight: w, dOutput: dy, dInput: dx, dWeight: dw, dBias: db, geometry: g,
                          outputChannels: shape.k)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    let flops = shape.forwardFLOPs * (backward ? 3 : 1)
    return Measurement(
      name: "conv \(backward ? "forward+backward" : "forward") \(shape.label)", value: flops / seconds / 1e9,
      unit: "GF/s")
  }

  /// Steps of SimpleConvNet (SGD 0.1, the seeds' recipe, as `bench_torch.py` W1) on random
  /// MNIST-shaped batches of 100.
  static func training(minTime: Double, repeats: Int) -> Measurement {
    var generator = SeededGenerator(seed: 1)
    let model = SimpleConvNet(using: &generator)
    let trainer = Trainer(model: model, optimizer: SGD(learningRate: 0.1))
    let batch = Batch(
      images: .randomNormal([100, 1, 28, 28], using: &generator),
      labels: (0..<100).map { _ in Int.random(in: 0..<10, using: &generator) })
    let seconds = secondsPerCall(minTime: minTime, repeats: repeats) { _ = trainer.step(batch) }
    return Measurement(name: "train simple-convnet batch 100", value: 100 / seconds, unit: "images/s")
  }

  private static func pow3(_ n: Int) -> Double { Double(n) * Double(n) * Double(n) }
}
