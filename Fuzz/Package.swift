// swift-tools-version: 6.0
// CNNKit's fuzz harnesses: one libFuzzer executable per parser. Build and run with `run.sh`;
// this package is never built by the main package's `swift build` or `swift test`.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its directory, so the main package's identity is the
/// name of the checkout (`CNNKit`, `main`, …), not a fixed string.
let cnnKit = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

/// A harness: one `LLVMFuzzerTestOneInput` and no `main` (libFuzzer supplies it).
func harness(_ name: String, dependencies: [Target.Dependency] = [.product(name: "CNNKit", package: cnnKit)])
  -> Target
{
  .executableTarget(
    name: name, dependencies: dependencies,
    swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
  name: "CNNKitFuzz",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(path: ".."),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    /// `IDX.decode`, plain and gzip (the system zlib).
    harness("FuzzIDX"),
    /// `CIFAR10.decode`, one batch file's bytes.
    harness("FuzzCIFAR"),
    /// `PNGDecoder.decode`.
    harness("FuzzPNG"),
    /// `SafeTensorsFile(bytes:)` and `Checkpoint(file:)`.
    harness("FuzzSafeTensors"),
    /// The same, then `RestoredModel(checkpoint:source:)`: the model built and loaded.
    harness("FuzzCheckpoint"),
    /// `CNNCommand.parseAsRoot(_:)`: the CLI's sources (a symlink to `../Sources/cnn`) compiled
    /// into the harness, their `@main` renamed so libFuzzer's `main` runs.
    .executableTarget(
      name: "FuzzCLI",
      dependencies: [
        .product(name: "CNNKit", package: cnnKit),
        .product(name: "CNNBenchmarks", package: cnnKit),
        .product(name: "CNNDashboard", package: cnnKit),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: [
        .unsafeFlags(["-parse-as-library", "-Xfrontend", "-entry-point-function-name", "-Xfrontend", "cnn_main"])
      ]),
    /// Writes the checkpoint seeds with CNNKit's own writer (`run.sh --seeds`); built without
    /// the sanitizers, in `.build-seeds`.
    .executableTarget(name: "FuzzSeeds", dependencies: [.product(name: "CNNKit", package: cnnKit)]),
  ],
  swiftLanguageModes: [.v6]
)
