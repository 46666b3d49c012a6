extension ModelName {
  /// The parameters this network has at every image shape and class count, known without
  /// building it.
  ///
  /// That is all of them but the first convolution's weights (which grow with the input
  /// channels), the classifier (which grows with the classes) and, for a network sized by its
  /// input, the first dense layer after the flattening (which grows with the image). Any
  /// network of this name has at least this many parameters, so a checkpoint that holds fewer
  /// values cannot load into it and is refused before it is built: a 100-byte file naming
  /// `vgg16` would otherwise allocate VGG-16's 138 million parameters first.
  ///
  /// Pinned against the built networks in `ModelZooTests`.
  public var shapeIndependentParameterCount: Int {
    switch self {
    case .simpleConvNet: return 30
    case .deepConvNet: return 71_648
    case .mnistCNN: return 51_296
    case .cifarCNN: return 471_552
    case .lenet5, .lenet5RBF: return 50_542
    case .alexNetOriginal: return 19_080_544
    case .alexNet: return 56_980_608
    case .vgg11: return 128_764_608
    case .vgg13: return 128_949_120
    case .vgg16: return 134_258_816
    case .vgg19: return 139_568_512
    case .vgg11BN: return 128_770_112
    case .vgg13BN: return 128_955_008
    case .vgg16BN: return 134_267_264
    case .vgg19BN: return 139_579_520
    case .googLeNet: return 5_590_496
    case .resNet18: return 11_167_104
    case .resNet34: return 21_275_264
    case .resNet50: return 23_498_624
    case .resNet101: return 42_490_752
    case .resNet152: return 58_134_400
    }
  }
}
