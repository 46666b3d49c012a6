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
      """)

  @Option(help: "blur, sharpen, edge, emboss, sobel-x, sobel-y, or custom=ROWS (rows split by ';', values by ',', fractions allowed).")
  var kernel: String

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
    do {
      _ = try ImageKernel(parsing: kernel)
    } catch {
      throw ValidationError(error.description)
    }
    guard (1...100).contains(times) else { throw ValidationError("--times must be 1 to 100 (got \(times)).") }
  }

  func run() throws {
    let parsed = try ImageKernel(parsing: kernel)
    var original = try Image.read(from: image)
    if grey { original = original.converted(toChannels: original.hasAlpha ? 2 : 1) }
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
