import Foundation
import Testing

/// The seeds' lessons as commands: `cnn gradcheck` and `cnn explain shape / pool --backward / col2im`.
@Suite struct LearnerCommandTests {
  @Test func gradcheckPassesAConvolutionLayer() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("gradcheck", "--layer", "conv:in=3,out=4,k=3,s=1,p=1", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      let rows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("input ") || $0.hasPrefix("weight ") || $0.hasPrefix("bias ") }
      #expect(rows.count == 3, "\(result)")
      #expect(rows.allSatisfy { $0.hasSuffix(" ok") }, "\(result)")
      #expect(result.stdout.contains("Verdicts: ok up to 1.0e-02, suspicious up to 1.0e-01, WRONG above."), "\(result)")
    }
  }

  @Test func gradcheckPassesLeNet5OnASample() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("gradcheck", "--model", "lenet5", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("input [2, 1, 28, 28]"), "\(result)")
      for name in ["0.weight", "3.weight", "6.weight", "9.weight", "11.bias"] {
        #expect(result.stdout.contains("\n\(name) "), "\(name) missing: \(result)")
      }
      #expect(result.stdout.contains("32 of 48000"), "\(result)")  // C5's weight is sampled, and says so
      #expect(result.stdout.contains("11 tensors: 11 ok, 0 suspicious, 0 WRONG."), "\(result)")
    }
  }

  /// LeNet-5 with the paper's RBF output passes as a whole network. Its distances run into
  /// the hundreds, so Float32 central differences need ε = 1e-2 (a smooth tanh network).
  @Test func gradcheckPassesLeNet5WithRBFOutput() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("gradcheck", "--model", "lenet5-rbf", "--epsilon", "0.01", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("9 tensors: 9 ok, 0 suspicious, 0 WRONG."), "\(result)")
      #expect(!result.stdout.contains("11.weight"), "the codes are fixed, not a parameter: \(result)")
      for layer in ["rbf:in=12,out=5", "scaledtanh"] {
        let alone = try cnn("gradcheck", "--layer", layer, in: directory)
        #expect(alone.exitCode == 0 && alone.stdout.contains("input ") && alone.stdout.contains(" ok"), "\(alone)")
        #expect(alone.stdout.contains("1 tensors: 1 ok, 0 suspicious, 0 WRONG."), "\(alone)")
      }
    }
  }

  @Test func gradcheckRefusesBadSpecificationsListingWhatIsAccepted() throws {
    try withTemporaryDirectory { directory in
      let unknown = try cnn("gradcheck", "--layer", "convolution:k=3", in: directory)
      #expect(unknown.exitCode != 0, "\(unknown)")
      #expect(unknown.stderr.contains("unknown layer 'convolution'"), "\(unknown)")
      for accepted in ["conv:in=3,out=4,k=3,s=1,p=0,g=1", "maxpool:k=2,s=k,p=0", "linear:in=8,out=4", "relu", "batchnorm:c=4", "dropout:rate=0.5"] {
        #expect(unknown.stderr.contains(accepted), "\(accepted) missing: \(unknown)")
      }
      let huge = try cnn("gradcheck", "--layer", "conv:k=500", in: directory)
      #expect(huge.exitCode != 0 && huge.stderr.contains("k takes whole numbers 1...11"), "\(huge)")
      let misfit = try cnn("gradcheck", "--layer", "linear:in=8", "--input", "3x4x4", in: directory)
      #expect(misfit.exitCode != 0 && misfit.stderr.contains("does not fit"), "\(misfit)")
      let both = try cnn("gradcheck", "--layer", "relu", "--model", "lenet5", in: directory)
      #expect(both.exitCode != 0 && both.stderr.contains("exactly one of"), "\(both)")
    }
  }

  @Test func explainShapeWorksTheSeedsExample() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn(
        "explain", "shape", "--input", "28x28x1", "--filter", "4", "--stride", "2", "--padding", "1", "--filters", "64",
        in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("OH×OW×K = 14×14×64"), "\(result)")
      #expect(result.stdout.contains("F·F·C·K + K = 1,088"), "\(result)")
      #expect(result.stdout.contains("OH = (H + 2P - F) / S + 1"), "\(result)")
      let huge = try cnn("explain", "shape", "--input", "28x28x1", "--filter", "4", "--padding", "99999", in: directory)
      #expect(huge.exitCode != 0 && huge.stderr.contains("--padding must be in 0...1023"), "\(huge)")
      let malformed = try cnn("explain", "shape", "--input", "28x28", "--filter", "4", in: directory)
      #expect(malformed.exitCode != 0 && malformed.stderr.contains("H×W×C"), "\(malformed)")
    }
  }

  @Test func explainPoolBackwardRoutesTheGradient() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("explain", "pool", "--backward", "--color", "never", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("max is 4 at (3, 1) -> it gets 3"), "\(result)")
      #expect(result.stdout.contains("1 / 4 = 0.25 to each of its 4 cells"), "\(result)")
      #expect(result.stdout.contains("min pooling, backward:"), "\(result)")
      #expect(!result.stdout.contains("MISMATCH"), "\(result)")
      let max = try cnn("explain", "pool", "--backward", "--mode", "max", "--color", "never", in: directory)
      #expect(max.exitCode == 0 && !max.stdout.contains("average pooling, backward:"), "\(max)")
    }
  }

  @Test func explainCol2imFoldsTheColumns() throws {
    try withTemporaryDirectory { directory in
      let result = try cnn("explain", "col2im", "--color", "never", in: directory)
      #expect(result.exitCode == 0, "\(result)")
      #expect(result.stdout.contains("(1, 1): 4 + 7 + 10 + 13 = 34"), "\(result)")
      #expect(result.stdout.contains("The sums by hand match col2im."), "\(result)")
      let padded = try cnn("explain", "col2im", "--size", "4", "--filter", "3", "--padding", "1", in: directory)
      #expect(padded.exitCode == 0, "\(padded)")
      let huge = try cnn("explain", "col2im", "--size", "28", in: directory)
      #expect(huge.exitCode != 0 && huge.stderr.contains("--size must be in 1...12"), "\(huge)")
    }
  }
}
