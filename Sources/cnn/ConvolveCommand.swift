import ArgumentParser
import CNNKit
import Foundation

extension ImageKernel.Response: ExpressibleByArgument {}

/// `cnn convolve`: applies an image kernel to a photo.
struct Convolve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Apply a blur, sharpen, edge, emboss or Sobel kernel (or your own) to an image.",
    discussion: """
      Uses the convolution the networks use (conv2DForward, one depthwise filter per colour \
      channel), on a grey or colour PNG, PGM or PPM image; edges are padded by repeating the \
      border pixels, so the output has the input's size. Examples:
        cnn convolve --kernel edge camera.png -o edges.png
        cnn convolve --kernel sharpen --compare chelsea.png -o sharp.png
        cnn convolve --kernel 'custom=1/16,2/16,1/16;2/16,4/16,2/16;1/16,2/16,1/16' coffee.png -o soft.png
      The seeds' lesson as one picture, the photo and each kernel with its weights and its result:
        cnn convolve --lesson camera.png -o lesson.png
      """)

  @Option(help: "blur, sharpen, edge, emboss, sobel-x, sobel-y, or custom=ROWS (rows split by ';', values by ',', fractions allowed).")
  var kernel: String?

  @Flag(help: "Draw the seeds' image-kernel lesson: the photo, then blur, sharpen, edge, emboss, sobel-x and sobel-y, each with its weights and its result (PNG).")
  var lesson = false

  @Option(help: "How results become pixels: clamp (kernels summing to 1), absolute (edge detectors), normalized (stretch to black…white); default by kernel.")
  var response: ImageKernel.Response?

  @Flag(help: "Convert a colour image to grey first.")
  var grey = false

  @Option(help: "Apply the kernel this many times (a stronger blur, say).")
  var times: Int = 1

  @Flag(help: "Write the original and the result side by side, labelled.")
  var compare = false

  @Argument(help: "The image: PNG, PGM or PPM.")
  var image: String

  @Option(name: [.short, .long], help: "Where to write the result: .png (or .pgm/.ppm).")
  var output: String

  func validate() throws {
    switch (kernel, lesson) {
    case (nil, false): throw ValidationError("Give --kernel NAME (or --lesson for the picture of every kernel).")
    case (_?, true): throw ValidationError("--lesson draws every kernel; leave out --kernel.")
    default: break
    }
    if lesson && !output.lowercased().hasSuffix(".png") {
      throw ValidationError("--lesson draws a PNG picture; name the output file …png.")
    }
    do {
      if let kernel { _ = try ImageKernel(parsing: kernel) }
    } catch {
      throw ValidationError(error.description)
    }
    guard (1...100).contains(times) else { throw ValidationError("--times must be 1 to 100 (got \(times)).") }
  }

  func run() throws {
    var original = try Image.read(from: image)
    if grey { original = original.converted(toChannels: original.hasAlpha ? 2 : 1) }
    guard let kernel else {
      try MemoryBudget.check(
        MemoryBudget.bytes([original.width, original.height, original.channels, MemoryLayout<Float>.size, 3]),
        for: "the lesson of \(image)", from: "its size, \(original.width)×\(original.height)×\(original.channels)")
      let picture = ImageKernel.lessonPicture(photo: original.hasAlpha ? original.converted(toChannels: original.channels - 1) : original)
      try picture.reducedToGreyIfPossible().write(to: output)
      print("wrote \(output) (\(picture.width)×\(picture.height)): \(image) and \(ImageKernel.lessonKernels.map(\.description).joined(separator: ", "))")
      return
    }
    let parsed = try ImageKernel(parsing: kernel)
    // The kernel works on Float copies: the input, the output and a padded plane per pass.
    try MemoryBudget.check(
      MemoryBudget.bytes([original.width, original.height, original.channels, MemoryLayout<Float>.size, 3]),
      for: "convolving \(image)", from: "its size, \(original.width)×\(original.height)×\(original.channels)")
    var result = original
    for _ in 0..<times { result = parsed.apply(to: result, response: response) }
    if compare {
      let label = times == 1 ? "\(parsed)" : "\(parsed) x\(times)"
      result = Image.sideBySide([("original", original), (label, result)]).reducedToGreyIfPossible()
    }
    try result.write(to: output)
    let weights = parsed.weights
    print("wrote \(output) (\(result.width)×\(result.height)): \(weights.count)×\(weights[0].count) \(parsed) kernel, response \(response ?? parsed.defaultResponse)")
  }
}
