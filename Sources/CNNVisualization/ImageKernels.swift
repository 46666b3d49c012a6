import CNNData
import CNNKernels
import CNNTensor

/// The classic image kernels of the seeds (blur, sharpen, edge, emboss) plus Sobel and any
/// custom matrix, applied to photos with the network's own convolution (`conv2DForward`).
///
/// Parse one from the command line with ``init(parsing:)``: `blur`, `sharpen`, `edge`,
/// `emboss`, `sobel-x`, `sobel-y`, or `custom=0,-1,0;-1,5,-1;0,-1,0` (rows separated by `;`,
/// values by `,`; fractions such as `1/16` are allowed).
public enum ImageKernel: Sendable, Equatable, CustomStringConvertible {
  /// 3×3 box blur, every weight 1/9 (the seeds' blur).
  case blur
  /// `[[0,-1,0],[-1,5,-1],[0,-1,0]]`: the image plus its negative Laplacian.
  case sharpen
  /// `[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]`: the Laplacian, zero on flat regions.
  case edge
  /// `[[-2,-1,0],[-1,1,1],[0,1,2]]`: relief lit from the lower right.
  case emboss
  /// `[[-1,0,1],[-2,0,2],[-1,0,1]]`: horizontal gradient (vertical edges).
  case sobelX
  /// `[[-1,-2,-1],[0,0,0],[1,2,1]]`: vertical gradient (horizontal edges).
  case sobelY
  /// Any rectangular matrix, rows top to bottom.
  case custom([[Float]])

  /// How convolved values (for pixels in `[0, 1]`) become bytes.
  public enum Response: String, Sendable, CaseIterable {
    /// Clamp to `[0, 1]`: for kernels whose weights sum to 1 (blur, sharpen, emboss).
    case clamp
    /// Clamp `|v|` to `[0, 1]`: for edge detectors, whose responses are signed.
    case absolute
    /// Stretch the smallest value to black and the largest to white, per channel.
    case normalized
  }

  /// The names ``init(parsing:)`` accepts besides `custom=…`.
  public static let names = ["blur", "sharpen", "edge", "emboss", "sobel-x", "sobel-y"]

  /// Parses `blur`, `sharpen`, `edge`, `emboss`, `sobel-x`, `sobel-y` or `custom=ROWS`.
  public init(parsing text: String) throws(ImageKernelError) {
    switch text.lowercased() {
    case "blur": self = .blur
    case "sharpen": self = .sharpen
    case "edge": self = .edge
    case "emboss": self = .emboss
    case "sobel-x", "sobelx": self = .sobelX
    case "sobel-y", "sobely": self = .sobelY
    default:
      guard text.lowercased().hasPrefix("custom=") else { throw ImageKernelError.unknownName(text) }
      let body = text.dropFirst("custom=".count)
      var rows: [[Float]] = []
      for row in body.split(separator: ";", omittingEmptySubsequences: false) {
        var values: [Float] = []
        for item in row.split(whereSeparator: { $0 == "," || $0 == " " }) {
          guard let value = Self.number(item) else { throw ImageKernelError.badNumber(String(item), text) }
          values.append(value)
        }
        rows.append(values)
      }
      guard !rows.isEmpty, !rows[0].isEmpty, rows.allSatisfy({ $0.count == rows[0].count }) else {
        throw ImageKernelError.notRectangular(text, rows.map(\.count))
      }
      self = .custom(rows)
    }
  }

  /// `0.25`, `-2`, or a fraction `1/16`.
  private static func number(_ text: Substring) -> Float? {
    let parts = text.split(separator: "/")
    if parts.count == 2, let top = Float(parts[0]), let bottom = Float(parts[1]), bottom != 0 { return top / bottom }
    return parts.count == 1 ? Float(text).flatMap { $0.isFinite ? $0 : nil } : nil
  }

  /// The weights, rows top to bottom.
  public var weights: [[Float]] {
    switch self {
    case .blur: return [[Float]](repeating: [Float](repeating: 1.0 / 9, count: 3), count: 3)
    case .sharpen: return [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    case .edge: return [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]
    case .emboss: return [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
    case .sobelX: return [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    case .sobelY: return [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    case .custom(let rows): return rows
    }
  }

  /// The usual response: clamp when the weights sum to about 1 (the picture keeps its
  /// brightness), the absolute value otherwise (edge detectors).
  public var defaultResponse: Response {
    abs(weights.joined().reduce(0, +) - 1) < 1e-3 ? .clamp : .absolute
  }

  public var description: String {
    switch self {
    case .blur: return "blur"
    case .sharpen: return "sharpen"
    case .edge: return "edge"
    case .emboss: return "emboss"
    case .sobelX: return "sobel-x"
    case .sobelY: return "sobel-y"
    case .custom(let rows):
      return "custom=" + rows.map { $0.map { String($0) }.joined(separator: ",") }.joined(separator: ";")
    }
  }

  /// Convolves every colour channel of `image` with this kernel; alpha is kept as it is.
  ///
  /// The output has the input's size: the borders are padded by repeating the edge pixels
  /// (so a blur does not darken them), then `conv2DForward` runs with the kernel as a
  /// depthwise weight `[C, 1, KH, KW]` and `groups = C`, exactly as a network's layer would.
  /// Like every CNN library, it computes a cross-correlation (the kernel is not flipped).
  public func apply(to image: Image, response: Response? = nil) -> Image {
    let rows = weights
    let kh = rows.count, kw = rows[0].count
    let colours = image.channels >= 3 ? 3 : 1
    let top = (kh - 1) / 2, left = (kw - 1) / 2
    let paddedHeight = image.height + kh - 1, paddedWidth = image.width + kw - 1
    // The colour planes, edge-replicated: [1, C, H + KH - 1, W + KW - 1].
    var input = [Float](repeating: 0, count: colours * paddedHeight * paddedWidth)
    for c in 0..<colours {
      for y in 0..<paddedHeight {
        let sy = min(max(y - top, 0), image.height - 1)
        for x in 0..<paddedWidth {
          let sx = min(max(x - left, 0), image.width - 1)
          input[(c * paddedHeight + y) * paddedWidth + x] = Float(image.pixels[(sy * image.width + sx) * image.channels + c]) / 255
        }
      }
    }
    let weight = (0..<colours).flatMap { _ in rows.joined() }
    let geometry = ConvGeometry(
      batch: 1, inputChannels: colours, inputHeight: paddedHeight, inputWidth: paddedWidth, kernelHeight: kh, kernelWidth: kw)
    var output = [Float](repeating: 0, count: colours * image.height * image.width)
    input.withUnsafeBufferPointer { x in
      weight.withUnsafeBufferPointer { w in
        output.withUnsafeMutableBufferPointer { y in
          guard let xp = x.baseAddress, let wp = w.baseAddress, let yp = y.baseAddress else { return }
          conv2DForward(
            input: xp, weight: wp, bias: nil, output: yp, geometry: geometry, outputChannels: colours, groups: colours)
        }
      }
    }
    let mode = response ?? defaultResponse
    var result = image
    let plane = image.width * image.height
    for c in 0..<colours {
      let values = output[(c * plane)..<((c + 1) * plane)]
      let low = values.min() ?? 0, high = values.max() ?? 0
      for p in 0..<plane {
        let v = values[c * plane + p]
        let mapped: Float
        switch mode {
        case .clamp: mapped = v
        case .absolute: mapped = abs(v)
        case .normalized: mapped = high > low ? (v - low) / (high - low) : 0
        }
        result.pixels[p * image.channels + c] = Image.byte(mapped)
      }
    }
    return result
  }
}

/// Why a `--kernel` value could not be parsed.
public enum ImageKernelError: Error, CustomStringConvertible, Sendable, Equatable {
  case unknownName(String)
  case badNumber(String, String)
  case notRectangular(String, [Int])

  public var description: String {
    let hint = "---> HINT: use one of \(ImageKernel.names.joined(separator: ", ")), or custom=ROWS with rows "
      + "separated by ';' and values by ',', e.g. custom=0,-1,0;-1,5,-1;0,-1,0 or custom=1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,1/9"
    switch self {
    case .unknownName(let name): return "unknown kernel '\(name)'.\n\(hint)"
    case .badNumber(let item, let text): return "'\(item)' in '\(text)' is not a number.\n\(hint)"
    case .notRectangular(let text, let counts):
      return "'\(text)' is not a rectangular matrix (row lengths \(counts.map(String.init).joined(separator: ", "))).\n\(hint)"
    }
  }
}
