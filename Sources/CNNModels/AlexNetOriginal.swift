import CNNLayers
import CNNTensor

/// AlexNet as published (Krizhevsky, Sutskever & Hinton, 2012, "ImageNet Classification with
/// Deep Convolutional Neural Networks", NeurIPS), laid out as the seed 004 table: a 227×227
/// input and the two-GPU split kept as convolution groups.
///
/// | layer | kind | maps | size | kernel | stride | padding |
/// |---|---|---|---|---|---|---|
/// | C1 | convolution + ReLU + LRN | 96 | 55×55 | 11×11 | 4 | valid |
/// | S2 | max pooling | 96 | 27×27 | 3×3 | 2 | valid |
/// | C3 | convolution + ReLU + LRN, 2 groups | 256 | 27×27 | 5×5 | 1 | same |
/// | S4 | max pooling | 256 | 13×13 | 3×3 | 2 | valid |
/// | C5 | convolution + ReLU | 384 | 13×13 | 3×3 | 1 | same |
/// | C6 | convolution + ReLU, 2 groups | 384 | 13×13 | 3×3 | 1 | same |
/// | C7 | convolution + ReLU, 2 groups | 256 | 13×13 | 3×3 | 1 | same |
/// | S8 | max pooling | 256 | 6×6 | 3×3 | 2 | valid |
/// | F9, F10 | dropout 0.5 + dense + ReLU | | 4096 | | | |
/// | out | dense | | 1000 | | | (softmax in the loss) |
///
/// Sizes: `(227 − 11)/4 + 1 = 55`, `(55 − 3)/2 + 1 = 27`, `(27 + 2·2 − 5)/1 + 1 = 27`,
/// `(27 − 3)/2 + 1 = 13`, `(13 + 2·1 − 3)/1 + 1 = 13`, `(13 − 3)/2 + 1 = 6`. (The paper says
/// 224×224, for which `(224 − 11)/4 + 1` is not an integer; 227 is the size that fits.)
///
/// Groups: each GPU held half of the kernels, and C3 (the paper's second layer), C6 and C7
/// saw only the maps on their own GPU, i.e. `groups: 2`; C5 (the paper's third layer)
/// connects across GPUs, and C1 sees all three colour channels on both. The per-layer
/// parameters are therefore those of seed 001:
/// `11·11·3·96 + 96 = 34,944` (35k), `5·5·48·256 + 256 = 307,456` (307k),
/// `3·3·256·384 + 384 = 885,120` (884k: seed 001 counts the 884,736 weights without the
/// biases), `3·3·192·384 + 384 = 663,936` (663k), `3·3·192·256 + 256 = 442,624` (442k),
/// `9216·4096 + 4096 = 37,752,832`, `4096·4096 + 4096 = 16,781,312` (16M),
/// `4096·1000 + 1000 = 4,097,000` (4M); 60,965,224 in all.
///
/// Seed 001 prints 177M for the first dense layer: it multiplies `13·13·256·4096`, using the
/// 13×13 maps before the last pooling. The pooled maps are 6×6, so the correct figure is
/// `6·6·256·4096 + 4096 = 37,752,832`. Without groups (one GPU) C3, C6 and C7 would have
/// 614,656, 1,327,488 and 884,992 parameters, 62,378,344 in all.
///
/// Local response normalization follows the first two convolutions with the paper's
/// `k = 2, n = 5, α = 10⁻⁴, β = 0.75` (PyTorch's formula divides α by n, so α is given as
/// 5·10⁻⁴). Deviations: weights use He initialization rather than `N(0, 0.01²)` with some
/// biases at 1; the overlapping pooling, dropout and ReLUs are as published.
///
/// Names follow `nn.Sequential`: C1 `0.weight`, C3 `4.weight`, C5 `8.weight`, C6 `10.weight`,
/// C7 `12.weight`, F9 `17.weight`, F10 `20.weight`, output `22.weight`. torchvision's
/// single-GPU variant, with different widths and names, is `AlexNet`.
public final class AlexNetOriginal: Sequential {
  /// - Parameters:
  ///   - inputShape: `[C, H, W]` of one image; `[3, 227, 227]` as in the seed table. F9 is
  ///     sized from the last pooling's output (`256·6·6 = 9216` at 227×227).
  ///   - classCount: Outputs (1000).
  ///   - initialization: How weights are drawn (He-normal, for the ReLUs).
  public init(
    inputShape: Shape = [3, 227, 227], classCount: Int = 1000, initialization: WeightInitialization = .he,
    using generator: inout some RandomNumberGenerator
  ) {
    precondition(inputShape.rank == 3, "AlexNetOriginal takes an image shape [C, H, W], got \(inputShape)")
    func conv(_ input: Int, _ output: Int, _ kernel: Size2D, stride: Size2D = 1, padding: Padding, groups: Int = 1)
      -> Conv2D
    {
      Conv2D(
        inputChannels: input, outputChannels: output, kernelSize: kernel, stride: stride, padding: padding,
        groups: groups, initialization: initialization, using: &generator)
    }
    func normalization() -> LocalResponseNorm { LocalResponseNorm(size: 5, alpha: 5e-4, beta: 0.75, k: 2) }
    let features: [any Layer] = [
      conv(inputShape[0], 96, 11, stride: 4, padding: .valid), ReLU(), normalization(),  // C1
      MaxPool2D(kernelSize: 3, stride: 2),  // S2
      conv(96, 256, 5, padding: .same, groups: 2), ReLU(), normalization(),  // C3
      MaxPool2D(kernelSize: 3, stride: 2),  // S4
      conv(256, 384, 3, padding: .same), ReLU(),  // C5
      conv(384, 384, 3, padding: .same, groups: 2), ReLU(),  // C6
      conv(384, 256, 3, padding: .same, groups: 2), ReLU(),  // C7
      MaxPool2D(kernelSize: 3, stride: 2),  // S8
    ]
    let featureCount = flattenedFeatures(after: features, inputShape: inputShape)
    super.init {
      features
      Flatten()
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: featureCount, outputFeatures: 4096, initialization: initialization, using: &generator)  // F9
      ReLU()
      Dropout(rate: 0.5, using: &generator)
      Linear(inputFeatures: 4096, outputFeatures: 4096, initialization: initialization, using: &generator)  // F10
      ReLU()
      Linear(inputFeatures: 4096, outputFeatures: classCount, initialization: initialization, using: &generator)  // output
    }
  }
}
