import CNNData
import CNNLayers
@testable import CNNTraining
import CNNTensor
import Testing

@testable import CNNVisualization

@Suite struct FilterGridTests {
  @Test func twoByTwoGridOfTwoByTwoFilters() {
    // Four 1-channel 2×2 filters, scale 1, in a 2×2 grid: 1 + 2·(2 + 1) = 7 pixels square.
    let weights = Tensor(shape: [4, 1, 2, 2], scalars: [
      0, 1, 2, 3,  // → 0, 85, 170, 255
      -1, -1, -1, 1,  // → 0, 0, 0, 255
      5, 5, 5, 5,  // constant → 128
      2, 0, 0, 1,  // → 255, 0, 0, 128
    ])
    let image = FilterGrid(weights: weights, scale: 1).image()
    #expect(image.width == 7 && image.height == 7 && image.channels == 3)
    let s = RGB.separator
    func grey(_ x: Int, _ y: Int) -> UInt8? {
      let p = image[x, y]
      return p[p.startIndex] == p[p.startIndex + 1] && p[p.startIndex + 1] == p[p.startIndex + 2] ? p[p.startIndex] : nil
    }
    // Separators: the frame and the middle lines.
    for i in 0..<7 {
      for (x, y) in [(i, 0), (i, 3), (i, 6), (0, i), (3, i), (6, i)] {
        #expect(Array(image[x, y]) == [s.red, s.green, s.blue])
      }
    }
    #expect([grey(1, 1), grey(2, 1), grey(1, 2), grey(2, 2)] == [0, 85, 170, 255])
    #expect([grey(4, 1), grey(5, 1), grey(4, 2), grey(5, 2)] == [0, 0, 0, 255])
    #expect([grey(1, 4), grey(2, 4), grey(1, 5), grey(2, 5)] == [128, 128, 128, 128])
    #expect([grey(4, 4), grey(5, 4), grey(4, 5), grey(5, 5)] == [255, 0, 0, 128])
  }

  @Test func scalesTilesByNearestNeighbour() {
    let weights = Tensor(shape: [1, 1, 1, 2], scalars: [0, 1])
    let image = FilterGrid(weights: weights, scale: 3).image()
    #expect(image.width == 1 + 6 + 1 && image.height == 1 + 3 + 1)
    for y in 1...3 {
      #expect((1...3).allSatisfy { image[$0, y, 0] == 0 })
      #expect((4...6).allSatisfy { image[$0, y, 0] == 255 })
    }
  }

  @Test func colourFiltersUseRGB() {
    // One 3-channel 1×1 filter... plus a second so min–max has a range: channel = colour.
    let weights = Tensor(shape: [1, 3, 1, 2], scalars: [1, 0, 0, 0, 0, 1])  // R at x0, B at x1
    let image = FilterGrid(weights: weights, scale: 1).image()
    #expect(Array(image[1, 1]) == [255, 0, 0])
    #expect(Array(image[2, 1]) == [0, 0, 255])
  }

  @Test func manyChannelFiltersGetOneRowEach() {
    let weights = Tensor(shape: [2, 4, 3, 3], scalars: (0..<72).map(Float.init))
    let image = FilterGrid(weights: weights, scale: 2).image()
    #expect(image.width == 4 * 7 + 1 && image.height == 2 * 7 + 1)
  }
}

/// The picture around a filter grid, deeper layers' strongest channels, dead feature maps,
/// square-ish grids, and the image-kernel lesson.
@Suite struct LearnerPictureTests {
  @Test func filterPictureHasAScaleBarAroundTheGrid() {
    let weights = Tensor(shape: [4, 1, 3, 3], scalars: (0..<36).map { Float($0 % 7) - 3 })
    let grid = FilterGrid(weights: weights, scale: 4)
    let picture = grid.picture(title: "test", layer: "0")
    #expect(picture.width > grid.image().width && picture.height > grid.image().height + 60)
    // Somewhere a row runs from black at the bar's left end to white at its right end.
    let bar = (0..<picture.height).first { y in
      picture[14, y, 0] == 0 && picture[14 + 159, y, 0] == 255 && picture[14 + 80, y, 0] > 100 && picture[14 + 80, y, 0] < 160
    }
    #expect(bar != nil, "no scale bar found")
  }

  @Test func deeperLayersShowTheirStrongestChannels() {
    // One filter of four 1×1 channels with norms 1, 3, 2, 0.5: the strongest two are 1 then 2.
    let values: [Float] = [1, 3, -2, 0.5]
    let order = values.withUnsafeBufferPointer { FilterGrid.strongestChannels(of: $0, channels: 4, count: 2) }
    #expect(order == [1, 2])
    var grid = FilterGrid(weights: Tensor(shape: [1, 4, 1, 1], scalars: values), scale: 1)
    grid.maxChannels = 2
    let image = grid.image()
    #expect(image.width == 2 * 2 + 1 && image.height == 3)
    #expect(image[1, 1, 0] == 255 && image[3, 1, 0] == 0)  // channel 1 (3, the largest) then channel 2 (−2, the smallest)
  }

  @Test func deadMapsAreCrossedOut() {
    let live = Tensor(shape: [1, 2, 4, 4], scalars: (0..<32).map { Float($0 % 5) })
    let dead = Tensor(shape: [1, 2, 4, 4], scalars: (0..<16).map { Float($0 % 5) } + [Float](repeating: 0, count: 16))
    func hasMark(_ image: Image) -> Bool {
      (0..<image.height).contains { y in
        (0..<image.width).contains { x in
          let mark = FeatureMaps.deadMark
          return image[x, y, 0] == mark.red && image[x, y, 1] == mark.green && image[x, y, 2] == mark.blue
        }
      }
    }
    #expect(!hasMark(FeatureMaps.grid(live, minimumSide: 16)))
    #expect(hasMark(FeatureMaps.grid(dead, minimumSide: 16)))
    #expect(FeatureMaps.isDead(dead, index: 1) && !FeatureMaps.isDead(dead, index: 0))
  }

  @Test func gridsAreAsSquareAsTheirCountAllows() {
    #expect([1, 6, 7, 16, 30, 32, 64, 120].map(FeatureMaps.squareishColumns) == [1, 3, 3, 4, 6, 8, 8, 12])
    let sixteen = FeatureMaps.grid(Tensor(shape: [1, 16, 2, 2], scalars: (0..<64).map(Float.init)), minimumSide: 2)
    #expect(sixteen.width == 4 * 3 + 1 && sixteen.height == 4 * 3 + 1)  // 4×4, not 15 + 1
  }

  @Test func kernelLessonShowsWeightsAndResults() {
    #expect(ImageKernel.weightText(1.0 / 9) == "1/9" && ImageKernel.weightText(-2) == "-2")
    #expect(ImageKernel.weightText(0.35) == "0.35" && ImageKernel.weightText(0.125) == "1/8")
    let photo = Image(width: 40, height: 30, channels: 1, pixels: (0..<1200).map { UInt8($0 % 251) })
    let lesson = ImageKernel.lessonPicture(photo: photo, columns: 4)
    // Two rows of four panels (the photo and six kernels), each at least the photo's width.
    #expect(lesson.width >= 4 * 40 && lesson.height >= 2 * 30 + 2 * 90)
    let table = ImageKernel.weightTable(.sobelX)
    #expect(table.width == 3 * 30 + 1 && table.height == 3 * 30 + 1)
    #expect(table[45, 2, 0] == 255 && table[45, 2, 1] == 255 && table[45, 2, 2] == 255)  // the 0 in the middle column: white
    #expect(table[2, 2, 2] == 255 && table[2, 2, 0] < 255)  // −1 top left: blue
  }
}

@Suite struct ImageKernelTests {
  @Test func blurOfATinyImage() {
    // 3×3 grey, centre 255: edge replication, box blur. Corner (0,0) window is
    // [[0,0,0],[0,0,0],[0,0,255]] → 255/9 = 28.3 → 28; centre sees all nine → 255/9 → 28.
    let image = Image(width: 3, height: 3, channels: 1, pixels: [0, 0, 0, 0, 255, 0, 0, 0, 0])
    let out = ImageKernel.blur.apply(to: image)
    #expect(out.pixels == [UInt8](repeating: 28, count: 9))
  }

  @Test func sobelXOfAStep() {
    // Columns 0, 0, 255, 255: Sobel-x = (right − left) · (1 + 2 + 1) over [0, 1] values.
    // x0: replicated left edge → 0; x1: (1 − 0)·4 → clamps to 1 → 255; x2: 255; x3: 0.
    let row: [UInt8] = [0, 0, 255, 255]
    let image = Image(width: 4, height: 3, channels: 1, pixels: row + row + row)
    let out = ImageKernel.sobelX.apply(to: image)
    #expect(out.pixels == [0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0])
  }

  @Test func customKernelHandComputed() throws {
    // A 1×2 kernel [0.5, 0.5] averages each pixel with its right neighbour (edge repeated).
    let kernel = try ImageKernel(parsing: "custom=1/2,0.5")
    #expect(kernel == .custom([[0.5, 0.5]]))
    let image = Image(width: 3, height: 1, channels: 3, pixels: [0, 100, 200, 100, 100, 0, 200, 0, 50])
    let out = kernel.apply(to: image)
    #expect(out.pixels == [50, 100, 100, 150, 50, 25, 200, 0, 50])
  }

  @Test func sharpenKeepsAFlatImage() {
    let image = Image(width: 4, height: 4, filledWith: [90, 20])  // grey + alpha
    #expect(ImageKernel.sharpen.apply(to: image) == image)
  }

  @Test func parsesNamesAndRejectsNonsense() throws {
    #expect(try ImageKernel(parsing: "sobel-y") == .sobelY)
    #expect(try ImageKernel(parsing: "custom=0,-1,0;-1,5,-1;0,-1,0") == .custom(ImageKernel.sharpen.weights))
    #expect(throws: ImageKernelError.unknownName("fuzzy")) { try ImageKernel(parsing: "fuzzy") }
    #expect(throws: ImageKernelError.notRectangular("custom=1,2;3", [2, 1])) { try ImageKernel(parsing: "custom=1,2;3") }
    #expect(ImageKernel.edge.defaultResponse == .absolute && ImageKernel.blur.defaultResponse == .clamp)
  }
}

@Suite struct ChartTests {
  @Test func lineChartHasAxesTicksLabelsAndLegend() {
    var chart = LineChart(title: "Loss", xLabel: "epoch", yLabel: "cross-entropy")
    chart.integerX = true
    chart.series = [
      .init(name: "train loss", points: [(1, 0.9), (2, 0.5), (3, 0.3)]),
      .init(name: "test loss", points: [(1, 0.8), (2, 0.6), (3, 0.45)], dashed: true),
    ]
    let svg = chart.svg().render()
    #expect(svg.hasPrefix("<?xml"))
    #expect(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    for text in [">Loss<", ">epoch<", ">cross-entropy<", ">train loss<", ">test loss<", ">0.2<", ">1<", ">3<"] {
      #expect(svg.contains(text), "missing \(text)")
    }
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
    #expect(svg.contains("stroke-dasharray"))
  }

  @Test func niceAxes() {
    let axis = Axis.nice(min: 0.03, max: 0.97, integer: false, limits: 0...1)
    #expect(axis.low == 0 && axis.high == 1 && axis.step == 0.2)
    #expect(Axis.nice(min: 1, max: 20, integer: true, limits: nil).step == 5)
    #expect(Axis.format(0.25, step: 0.05) == "0.25")
    #expect(fixed(-0.5, decimals: 2) == "-0.50")
  }

  /// Curves end at the last epoch: the axis spans the data exactly, both ends labelled.
  @Test func epochAxisEndsAtTheLastEpoch() {
    #expect(Axis.spanning(low: 1, high: 12, integer: true).ticks == [1, 5, 10, 12])
    #expect(Axis.spanning(low: 1, high: 3, integer: true).ticks == [1, 2, 3])
    #expect(Axis.spanning(low: 1, high: 20, integer: true).ticks == [1, 5, 10, 15, 20])
    let curves = TrainingCurves(epochs: (1...7).map { TrainingCurves.Epoch(epoch: $0, trainLoss: 1 / Double($0)) })
    let svg = curves.lossChart.svg().render()
    #expect(svg.contains(">7</text>") && !svg.contains(">8</text>") && !svg.contains(">10</text>"), "\(svg)")
  }

  @Test func trainingCurvesFromAJSONLinesLog() throws {
    let log = """
      {"event":"started","model":"simple-convnet","parameters":433890,"train_samples":4000,"test_samples":1000,"epochs":2,"batch_size":100,"batches_per_epoch":40,"optimizer":"adam","learning_rate":0.001,"seed":"42"}
      {"event":"batch","epoch":1,"batch":1,"batches":40,"loss":2.3}
      {"event":"epoch","epoch":1,"train_loss":0.9,"train_accuracy":0.71,"test_loss":0.5,"test_accuracy":0.85,"seconds":1.2,"images_per_second":3300.0}
      {"event":"epoch","epoch":2,"train_loss":0.4,"train_accuracy":0.88,"test_loss":null,"test_accuracy":"NaN","seconds":1.1,"images_per_second":3600.0}
      {"event":"finished","epochs":2,"test_accuracy":0.85}
      {"event":"evaluation","count":1000}
      """
    let curves = try TrainingCurves.parse(jsonLines: log)
    #expect(curves.epochs == [
      .init(epoch: 1, trainLoss: 0.9, trainAccuracy: 0.71, testLoss: 0.5, testAccuracy: 0.85),
      .init(epoch: 2, trainLoss: 0.4, trainAccuracy: 0.88),
    ])
    #expect(curves.subtitle?.contains("simple-convnet") == true)
    let svg = curves.svg().render()
    for text in [">Loss<", ">Accuracy<", ">train accuracy<", ">test accuracy<", ">train loss<", "%<"] {
      #expect(svg.contains(text), "missing \(text)")
    }
    #expect(throws: TrainingLogError.self) { try TrainingCurves.parse(jsonLines: "epoch 1 loss 0.3") }
    #expect(throws: TrainingLogError.self) { try TrainingCurves.parse(jsonLines: "{\"event\":\"started\"}") }
  }

  /// The log `cnn train --json` writes now (`JSONLinesObserver`) draws as it is.
  @Test func trainingCurvesFromTheObserversOwnLines() throws {
    var log = ""
    let observer = JSONLinesObserver(write: { log += $0 })
    observer.receive(
      .started(TrainingStart(
        model: "lenet5", parameterCount: 61_706, trainingSamples: 60_000, testSamples: 10_000, epochs: 2,
        batchSize: 100, batchesPerEpoch: 600, optimizer: "Adam", learningRate: 0.001, seed: 7, dataset: "mnist")))
    let first = EpochSummary(
      epoch: 1, trainLoss: 0.3, trainAccuracy: 0.91, testLoss: 0.2, testAccuracy: 0.94, seconds: 3,
      evaluationSeconds: 0.2, imagesPerSecond: 20_000, learningRate: 0.001)
    var second = first
    second.epoch = 2
    second.trainLoss = .infinity
    second.testAccuracy = nil
    observer.receive(.epoch(first))
    observer.receive(.epoch(second))
    observer.receive(.finished(TrainingResult(epochs: [first, second], trainingSeconds: 6, totalSeconds: 6.5)))
    let curves = try TrainingCurves.parse(jsonLines: log)
    #expect(curves.epochs == [
      .init(epoch: 1, trainLoss: 0.3, trainAccuracy: 0.91, testLoss: 0.2, testAccuracy: 0.94),
      .init(epoch: 2, trainAccuracy: 0.91, testLoss: 0.2),
    ])
    #expect(curves.subtitle == "mnist · lenet5 · Adam, learning rate 0.001 · batches of 100 · 60000 training images")
    // An epoch line without a key the event needs is an error that names the key.
    let broken = #"{"event":"epoch","epoch":1,"train_accuracy":0.5,"seconds":1,"images_per_second":2}"#
    #expect(throws: TrainingLogError.self) { try TrainingCurves.parse(jsonLines: broken) }
    do {
      _ = try TrainingCurves.parse(jsonLines: broken)
    } catch let error as TrainingLogError {
      #expect(error.problem == "line 1 is not a complete \"epoch\" event: no \"train_loss\"")
    }
  }

  @Test func confusionMatrixCountsAndPictures() {
    let matrix = ConfusionMatrix(labels: [0, 0, 1, 1, 1, 2], predictions: [0, 1, 1, 1, 2, 2], classNames: ["a", "b", "c"])
    #expect(matrix.counts == [[1, 1, 0], [0, 2, 1], [0, 0, 1]])
    #expect(matrix.correct == 4 && matrix.total == 6)
    let svg = matrix.svg().render()
    #expect(svg.contains("4 of 6 correct (66.7%)"))
    #expect(svg.contains(">predicted class<") && svg.contains(">true class<"))
    let image = matrix.image()
    #expect(image.channels == 3 && image.width > 100)
  }
}

@Suite struct FeatureMapsTests {
  @Test func tracesEachConvolutionStage() {
    var rng = SeededGenerator(seed: 1)
    let model = Sequential {
      Conv2D(inputChannels: 1, outputChannels: 3, kernelSize: 3, using: &rng)
      ReLU()
      MaxPool2D(kernelSize: 2, stride: 2)
      Sequential {
        Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, using: &rng)
        Tanh()
      }
      Flatten()
    }
    let input = Tensor(shape: [1, 1, 10, 10], scalars: (0..<100).map { Float($0 % 7) / 7 })
    let (activations, output) = FeatureMaps.trace(model, input: input)
    #expect(activations.map(\.name) == ["0", "3.0"])
    #expect(activations.map(\.description) == ["Conv2D 3x3 + ReLU", "Conv2D 3x3 + tanh"])
    #expect(activations[0].maps.shape == [1, 3, 8, 8] && activations[1].maps.shape == [1, 4, 2, 2])
    #expect(activations[0].maps.scalars.allSatisfy { $0 >= 0 })
    #expect(output == model(input))
    let picture = FeatureMaps.picture(input: Image(tensor: input), activations: activations)
    #expect(picture.channels == 3 && picture.height > 3 * 48)
  }

  @Test func gridNormalisesEachMap() {
    let maps = Tensor(shape: [1, 2, 1, 2], scalars: [1, 3, 7, 7])
    let image = FeatureMaps.grid(maps, minimumSide: 1, columns: 2)
    #expect(image.width == 7 && image.height == 3)
    #expect(image[1, 1, 0] == 0 && image[2, 1, 0] == 255)
    #expect(image[4, 1, 0] == 0 && image[5, 1, 0] == 0)  // constant map → black
  }
}

@Suite struct ExplainTests {
  @Test func convolutionReachesTheSeedsResult() {
    let text = Explain.convolution()
    #expect(text.contains(" 4  3  4 \n 2  4  3 \n 2  3  4 "))
    #expect(text.contains("Step 9 of 9"))
    #expect(text.contains("1*1 + 1*0 + 1*1 + 0*0 + 1*1 + 1*0 + 0*1 + 0*0 + 1*1 = 4"))
    #expect(!text.contains("\u{1B}"))
    #expect(Explain.convolution(style: .ansi).contains("\u{1B}[1;30;43m"))
  }

  @Test func poolingShowsAllThreeModes() {
    let text = Explain.pooling()
    #expect(text.contains("max(1, 2, 0, 1) = 2"))
    #expect(text.contains("min(1, 2, 0, 1) = 0"))
    #expect(text.contains("average = (1 + 2 + 0 + 1) / 4 = 1"))
    #expect(text.contains("max pooling") && text.contains("average pooling") && text.contains("min pooling"))
    #expect(text.contains(" 2  3 ") && text.contains(" 4  2 "))  // max result [[2, 3], [4, 2]]
  }

  @Test func im2colShowsTheMatrixAndTheWindow() {
    let text = Explain.im2colMatrix(channels: 1, height: 3, width: 3, kernel: 2, highlightedRow: 3)
    #expect(text.contains("(4, 4)"))
    // Window (0, 1, 1) reads 5, 6, 8, 9.
    #expect(text.contains("=>    (0,1,1)  5 6 8 9"))
    #expect(text.contains("[5]") && text.contains("[9]") && !text.contains("[4]"))
  }
}

@Suite struct FeatureMapsScalarTests {
  @Test func singleValueMapsShareOneScale() {
    let maps = Tensor(shape: [1, 3, 1, 1], scalars: [0, 1, 2])
    let image = FeatureMaps.grid(maps, columns: 3)
    #expect(image.width == 3 * 17 + 1 && image.height == 18)
    #expect([image[1, 1, 0], image[18, 1, 0], image[35, 1, 0]] == [0, 128, 255])
  }
}

@Suite struct SampleGridTests {
  @Test func rowsAndColumnsAreLaidOut() {
    let white = Image(width: 2, height: 2, filledWith: [255])
    let black = Image(width: 2, height: 2, filledWith: [0])
    let picture = SampleGrid.picture(rows: [("a", [white, black]), ("b", [black, white])], scale: 3)
    // 10 margin + label ("a" 10 px + 12) + 2 columns of (6 + 6 gap) + 10 margin.
    #expect(picture.width == 10 + 22 + 2 * 12 + 10 && picture.height == 10 + 2 * 12 + 10)
    #expect(picture[32, 10, 0] == 255 && picture[44, 10, 0] == 0)  // row a: white, black
    #expect(picture[32, 22, 0] == 0 && picture[44, 22, 0] == 255)  // row b: black, white
  }
}
