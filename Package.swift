// swift-tools-version: 6.1
// CNNKit: convolutional neural networks in Swift, from the kernels up.
import PackageDescription

let package = Package(
  name: "CNNKit",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "CNNKit", targets: ["CNNKit"]),
    /// The measurements behind `cnn benchmark` (the fuzz package compiles the CLI with it).
    .library(name: "CNNBenchmarks", targets: ["CNNBenchmarks"]),
    /// The live training view's server (the fuzz package compiles the CLI with it too).
    .library(name: "CNNDashboard", targets: ["CNNDashboard"]),
    .executable(name: "cnn", targets: ["cnn"]),
  ],
  /// `MPI` (off by default): data-parallel training over MPI (`swift build --traits MPI`). It
  /// needs Open MPI (`libopenmpi-dev`, `openmpi-bin`); the default build needs nothing new.
  traits: [
    .trait(name: "MPI", description: "Data-parallel training over MPI (needs Open MPI: libopenmpi-dev, openmpi-bin).")
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    // `swift package generate-documentation` (the DocC catalog in Sources/CNNKit/CNNKit.docc).
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    // The dashboard's HTTP server: small (two modules, no SwiftNIO), Swift concurrency, Linux and macOS.
    .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
  ],
  targets: [
    // MARK: - Library
    /// AVX-512 / AVX2 GEMM micro-kernels, chosen once by CPUID. No build flags needed.
    .target(name: "CCNNKernels"),
    /// Kernels on raw buffers: GEMM, im2col/col2im, convolution, pooling, activations, loss.
    .target(
      name: "CNNKernels",
      dependencies: ["CCNNKernels", .product(name: "RealModule", package: "swift-numerics")]),
    /// `Tensor`, `Shape`, `SeededGenerator`.
    .target(
      name: "CNNTensor",
      dependencies: [.product(name: "RealModule", package: "swift-numerics")]),
    /// `Layer`, `Parameter`, layers, containers, losses, initializers, gradient check.
    .target(
      name: "CNNLayers",
      dependencies: ["CNNKernels", "CNNTensor", .product(name: "RealModule", package: "swift-numerics")]),
    /// SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, Adadelta.
    .target(
      name: "CNNOptimizers",
      dependencies: ["CNNKernels", "CNNTensor", "CNNLayers", .product(name: "RealModule", package: "swift-numerics")]),
    /// The system zlib (inflate, deflate, CRC-32), for gzip'd IDX files and PNG.
    .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
    /// Datasets: IDX (MNIST format, plain or gzip), CIFAR-10, image folders and image files
    /// (PNG, netpbm), the bundled MNIST sample, `DatasetSpecification`, batching, augmentation.
    .target(
      name: "CNNData", dependencies: ["CNNKernels", "CNNTensor", "CZlib"],
      resources: [.copy("Resources/mnist-sample")]),
    /// The networks of the seeds.
    .target(name: "CNNModels", dependencies: ["CNNKernels", "CNNTensor", "CNNLayers"]),
    /// The run (`RunConfiguration`, `TrainingSession`), `Trainer`, checkpoints, events, reports.
    .target(
      name: "CNNTraining",
      dependencies: ["CNNKernels", "CNNTensor", "CNNLayers", "CNNOptimizers", "CNNData", "CNNModels"]),
    /// PNG and SVG writers, filter grids, feature maps, charts (training curves read
    /// `CNNTraining`'s events).
    .target(
      name: "CNNVisualization", dependencies: ["CNNKernels", "CNNTensor", "CNNLayers", "CNNData", "CNNTraining"]),
    /// Umbrella: `import CNNKit` brings in every library module.
    .target(
      name: "CNNKit",
      dependencies: [
        "CNNKernels", "CNNTensor", "CNNLayers", "CNNOptimizers", "CNNData", "CNNModels", "CNNTraining",
        "CNNVisualization",
      ]),

    /// The live training view (`cnn train --dashboard`, `cnn dashboard`): an HTTP server on
    /// loopback that streams training events and snapshots (server-sent events) to a page
    /// shipped as resources, and takes the run's controls (pause, resume, learning rate, stop).
    .target(
      name: "CNNDashboard",
      dependencies: [
        "CNNKernels", "CNNTensor", "CNNLayers", "CNNData", "CNNModels", "CNNTraining", "CNNVisualization",
        .product(name: "FlyingFox", package: "FlyingFox"),
      ],
      resources: [.copy("Resources/Page")]),

    /// The measurements of `cnn benchmark` (GEMM, convolution, training steps).
    .target(
      name: "CNNBenchmarks",
      dependencies: ["CNNKernels", "CNNTensor", "CNNLayers", "CNNOptimizers", "CNNData", "CNNModels", "CNNTraining"]),

    // MARK: - Distributed (trait MPI)
    /// Open MPI's C API (pkg-config `ompi-c`), with shims for the handles Swift cannot import.
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
    /// `MPIContext`: CNNTraining's `DistributedContext` over MPI. Empty without the trait.
    .target(
      name: "CNNDistributed",
      dependencies: ["CNNTensor", "CNNLayers", "CNNTraining", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),

    // MARK: - Executables
    .executableTarget(
      name: "cnn",
      dependencies: [
        "CNNKit", "CNNBenchmarks", "CNNDashboard", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .target(name: "CNNDistributed", condition: .when(traits: ["MPI"])),
      ]),

    // MARK: - Tests
    .testTarget(name: "CNNKernelsTests", dependencies: ["CNNKernels", "CCNNKernels"]),
    .testTarget(name: "CNNTensorTests", dependencies: ["CNNTensor"]),
    .testTarget(name: "CNNLayersTests", dependencies: ["CNNTensor", "CNNLayers"]),
    .testTarget(name: "CNNOptimizersTests", dependencies: ["CNNTensor", "CNNLayers", "CNNOptimizers"]),
    .testTarget(name: "CNNDataTests", dependencies: ["CNNTensor", "CNNData"], resources: [.copy("Fixtures")]),
    .testTarget(name: "CNNModelsTests", dependencies: ["CNNKernels", "CNNTensor", "CNNLayers", "CNNModels"]),
    .testTarget(
      name: "CNNTrainingTests",
      dependencies: ["CNNKernels", "CNNTensor", "CNNLayers", "CNNOptimizers", "CNNData", "CNNModels", "CNNTraining"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "CNNVisualizationTests",
      dependencies: ["CNNTensor", "CNNLayers", "CNNData", "CNNTraining", "CNNVisualization"]),
    .testTarget(
      name: "CNNDashboardTests",
      dependencies: ["CNNTensor", "CNNLayers", "CNNOptimizers", "CNNData", "CNNModels", "CNNTraining", "CNNDashboard"]),
    /// Runs the built `cnn` executable as a subprocess. Depending on the executable target makes
    /// `swift test` build `cnn` first; the tests do not import it.
    .testTarget(name: "CLITests", dependencies: ["cnn"]),
    /// The code samples of the DocC articles and the README, compiled and run.
    .testTarget(name: "DocumentationTests", dependencies: ["CNNKit"]),
    /// Runs the built `cnn` under `mpirun` (only with `--traits MPI`; empty otherwise).
    .testTarget(
      name: "DistributedTests", dependencies: ["cnn", "CNNTensor", "CNNTraining"]),
  ],
  swiftLanguageModes: [.v6]
)
