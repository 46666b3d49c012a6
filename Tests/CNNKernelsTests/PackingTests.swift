// The C packer behind packA (row-major A) and StridedMatrix.pack (transposed B), against its
// formula, for every instruction-set variant this CPU runs.
import CCNNKernels
import Testing

@Suite("Packing runs as columns")
struct PackingTests {
  /// The variants this CPU runs: baseline, then AVX2 and AVX-512 where supported.
  static let isas = Array(Int32(CCNN_ISA_PORTABLE)...ccnn_isa())

  @Test(
    "strip[p·width + i] = source[i·runStride + p], zeros past the runs: every run count and length tail",
    arguments: isas)
  func matchesFormula(isa: Int32) {
    // Widths of the micro-kernels' strips (MR 6 and 14, NR 16 and 32) and an odd one; run
    // counts cover the 8-, 4-, 2- and 1-run groups, lengths the 8-, 4- and 1-value tails.
    for width in [6, 14, 16, 32, 19] {
      for runs in 0...width {
        for length in [0, 1, 3, 4, 7, 8, 9, 12, 13, 19, 24, 33] {
          let runStride = length + 5
          let source = (0..<(max(runs, 1) * runStride)).map { Float($0) * 0.5 - 7 }
          var strip = [Float](repeating: .nan, count: length * width + 8)
          source.withUnsafeBufferPointer { s in
            strip.withUnsafeMutableBufferPointer { out in
              ccnn_pack_runs_as_columns_isa(isa, s.baseAddress!, runStride, runs, length, out.baseAddress!, width)
            }
          }
          var wrong: (p: Int, i: Int)?
          for p in 0..<length {
            for i in 0..<width {
              let expected = i < runs ? source[i * runStride + p] : 0
              if strip[p * width + i] != expected, wrong == nil { wrong = (p, i) }
            }
          }
          #expect(wrong == nil, "isa \(isa) width \(width) runs \(runs) length \(length): first wrong \(wrong.map { "\($0)" } ?? "")")
          let untouched = strip[(length * width)...].allSatisfy { $0.isNaN }
          #expect(untouched, "isa \(isa) width \(width) runs \(runs) length \(length): wrote past the strip")
        }
      }
    }
  }

  @Test(
    "strip[r·nr + t] = source[bases[t] + positions[r]]: runs of consecutive positions broken anywhere",
    arguments: isas)
  func gatheredMatchesFormula(isa: Int32) {
    var rng = TestGenerator(state: 5)
    let source = (0..<4096).map { Float($0) * 0.25 - 100 }
    for nr in [16, 32] {
      for width in [0, 1, 3, 4, 5, 8, 11, 12, 16, 25, 31, 32] where width <= nr {
        for kc in [0, 1, 4, 7, 8, 9, 16, 23, 40] {
          // Positions along output rows of 3, 7 or 24 columns (every break of a run of 4 or
          // 8 falls somewhere), each row starting at an arbitrary offset; then (0) the taps of
          // a 2×2 map's position in 3×3 filters, c·9 + (1, 2, 4, 5), gaps within a window of 16
          // floats, with one column's last tap the source's last float.
          for rowLength in [3, 7, 24, 0] {
            var positions = [Int]()
            var start = 0
            while positions.count < kc {
              if rowLength == 0 {
                positions.append(positions.count / 4 * 9 + [1, 2, 4, 5][positions.count % 4])
                continue
              }
              if positions.count % rowLength == 0 { start = Int.random(in: 0..<2000, using: &rng) }
              positions.append(start + positions.count % rowLength)
            }
            var bases = (0..<max(width, 1)).map { _ in Int.random(in: 0..<2000, using: &rng) }
            if rowLength == 0, let last = positions.last { bases[bases.count - 1] = source.count - 1 - last }
            var strip = [Float](repeating: .nan, count: kc * nr + 8)
            source.withUnsafeBufferPointer { s in
              strip.withUnsafeMutableBufferPointer { out in
                ccnn_pack_gathered_columns_isa(isa, s.baseAddress!, bases, width, positions, kc, out.baseAddress!, nr)
              }
            }
            var wrong: (r: Int, t: Int)?
            for r in 0..<kc {
              for t in 0..<nr {
                let expected = t < width ? source[bases[t] + positions[r]] : 0
                if strip[r * nr + t] != expected, wrong == nil { wrong = (r, t) }
              }
            }
            let label = "isa \(isa) nr \(nr) width \(width) kc \(kc) rows of \(rowLength)"
            #expect(wrong == nil, "\(label): first wrong \(wrong.map { "\($0)" } ?? "")")
            let untouched = strip[(kc * nr)...].allSatisfy { $0.isNaN }
            #expect(untouched, "\(label): wrote past the strip")
          }
        }
      }
    }
  }
}
