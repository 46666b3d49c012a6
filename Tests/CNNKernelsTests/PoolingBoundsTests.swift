// Pooling reads nothing past the end of its input: the input is placed so that it ends
// exactly where an unreadable page begins, and any read past it stops the test process.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Testing

@testable import CNNKernels

private typealias S = ConvTestSupport

@Suite struct PoolingBoundsTests {
  /// 3×3 windows, stride 2, padding 1, over 16 columns: the last group of four outputs
  /// (overlapping the one before it) starts its windows at column 7, and an eight-float load
  /// at column 9 would reach column 16, one float past the last row of the last plane.
  @Test(arguments: [PoolingMode.max, .average, .min])
  func stridedGroupsStayInsideTheInput(mode: PoolingMode) throws {
    let g = S.geometry(n: 1, c: 2, h: 8, w: 16, kh: 3, kw: 3, sh: 2, sw: 2, pad: (1, 1, 1, 1))
    let count = g.batch * g.inputChannels * g.inputPlaneSize
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    #expect(count * 4 <= page)
    let region = try #require(
      mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      "mmap")
    #expect(region != MAP_FAILED)
    defer { munmap(region, 2 * page) }
    #expect(mprotect(region + page, page, PROT_NONE) == 0)
    let input = (region + page - count * 4).bindMemory(to: Float.self, capacity: count)
    var rng = S.Generator(seed: 11)
    let values = S.random(count, using: &rng)
    input.update(from: values, count: count)

    let outputCount = g.batch * g.inputChannels * g.outputPlaneSize
    var expected = [Float](repeating: .nan, count: outputCount)
    pool2DForwardNaive(input: values, output: &expected, geometry: g, mode: mode)
    var output = [Float](repeating: .nan, count: outputCount)
    pool2DForward(input: input, output: &output, geometry: g, mode: mode, argIndex: nil, threads: 1)
    #expect(output == expected)
  }
}
