import CZlib

/// Why a zlib or gzip stream could not be decoded. Callers turn it into their own error
/// (`DatasetError.corruptCompressedData`, `PNGError.corruptImageData`).
enum InflateError: Error, Equatable {
  /// The data breaks the format; the reason says how (zlib's words, or a check of ours).
  case corrupt(String)
  /// The data ends before the stream does.
  case truncated

  /// A short description, for messages.
  var reason: String {
    switch self {
    case .corrupt(let reason): return reason
    case .truncated: return "truncated: the data ends before the compressed stream does"
    }
  }
}

/// Decodes a zlib (RFC 1950) or gzip (RFC 1952) stream held in memory with the system zlib,
/// a buffer at a time, so a caller that knows how much to expect allocates that and stops there:
///
///     zlib:  CMF FLG  DEFLATE data  ADLER32(4, big-endian)
///     gzip:  1F 8B 08 FLG MTIME(4) XFL OS [EXTRA] [NAME\0] [COMMENT\0] [HCRC(2)]
///            DEFLATE data  CRC32(4)  ISIZE(4)          (one or more members)
///
/// zlib checks the headers, the header CRC and the trailers (Adler-32; CRC-32 and size).
/// Gzip members are decoded back to back into one output, as `gunzip` does; zero bytes after
/// the last member (tape padding) are ignored, anything else there is an error. A zlib stream
/// ends with its checksum; bytes after it are left unread.
///
/// zlib keeps its state (about 7 KB plus a window of at most 32 KB) behind a pointer that must
/// not move, hence a class; `deinit` frees it. Output goes straight into the caller's array.
final class Inflater {
  /// The container around the DEFLATE data.
  enum Format {
    case zlib, gzip

    /// `windowBits` for `inflateInit2`: a 32 KB window (15), plus 16 for the gzip wrapper.
    var windowBits: Int32 { self == .zlib ? 15 : 15 + 16 }
  }

  private let input: [UInt8]
  private let format: Format
  private let stream: UnsafeMutablePointer<z_stream>
  /// Input bytes zlib has consumed.
  private var consumed = 0
  /// Whether the stream (every gzip member) has ended and its checksums matched.
  private(set) var isAtEnd = false

  /// Prepares to decode `input`; nothing is decoded yet.
  init(_ input: [UInt8], format: Format) throws(InflateError) {
    if format == .gzip && !Gzip.hasMagic(input) {
      throw input.count < 2 && input.first ?? 0x1F == 0x1F
        ? .truncated : .corrupt("not gzip data (it does not start with 1F 8B)")
    }
    self.input = input
    self.format = format
    stream = .allocate(capacity: 1)
    stream.initialize(to: z_stream())
    let status = cnnkit_inflateInit2(stream, format.windowBits)
    // Only out of memory or a zlib older than its header can fail here: not the data's fault.
    precondition(status == Z_OK, "inflateInit2 failed with zlib status \(status)")
  }

  deinit {
    inflateEnd(stream)
    stream.deinitialize(count: 1)
    stream.deallocate()
  }

  /// Decodes into `output[start...]` until it is full or the stream ends; returns how many
  /// bytes it wrote. Fewer than asked means the stream ended (``isAtEnd``).
  ///
  /// - Throws: `.truncated` if the input ends first, `.corrupt` for damage.
  func read(into output: inout [UInt8], from start: Int) throws(InflateError) -> Int {
    precondition(0 <= start && start <= output.count, "read from \(start) of \(output.count)")
    var written = 0
    while start + written < output.count && !isAtEnd {
      let status = output.withUnsafeMutableBufferPointer { out in
        input.withUnsafeBufferPointer { source in
          step(source, into: UnsafeMutableBufferPointer(rebasing: out[(start + written)...]), written: &written)
        }
      }
      switch status {
      case Z_OK: continue
      case Z_STREAM_END: try endOfMember()
      case Z_BUF_ERROR: throw .truncated  // no progress with room to write: the input ran out
      case Z_NEED_DICT: throw .corrupt("the stream needs a preset dictionary (FDICT), which PNG and gzip never use")
      default: throw failure(status)
      }
    }
    return written
  }

  /// Whether the stream holds more data; decodes one byte to find out. When it says `false`
  /// the stream has ended and its checksums were checked.
  func hasMoreData() throws(InflateError) -> Bool {
    var probe: [UInt8] = [0]
    return try read(into: &probe, from: 0) > 0
  }

  /// One call of zlib's `inflate` over the rest of the input (at most 4 GiB of it, uInt).
  private func step(
    _ source: UnsafeBufferPointer<UInt8>, into target: UnsafeMutableBufferPointer<UInt8>,
    written: inout Int
  ) -> Int32 {
    let availableIn = min(source.count - consumed, Int(UInt32.max))
    let availableOut = min(target.count, Int(UInt32.max))
    stream.pointee.next_in = source.baseAddress.map { UnsafeMutablePointer(mutating: $0 + consumed) }
    stream.pointee.avail_in = UInt32(availableIn)
    stream.pointee.next_out = target.baseAddress
    stream.pointee.avail_out = UInt32(availableOut)
    let status = inflate(stream, Z_NO_FLUSH)
    consumed += availableIn - Int(stream.pointee.avail_in)
    written += availableOut - Int(stream.pointee.avail_out)
    // The buffers are only lent for this call.
    stream.pointee.next_in = nil
    stream.pointee.next_out = nil
    return status
  }

  /// After a member's trailer: ends the stream, or starts the next gzip member.
  private func endOfMember() throws(InflateError) {
    guard format == .gzip else {
      isAtEnd = true
      return
    }
    let rest = input[consumed...]
    if rest.allSatisfy({ $0 == 0 }) {
      isAtEnd = true
    } else if Gzip.hasMagic(rest) {
      inflateReset(stream)
    } else if rest.count == 1 && rest.first == 0x1F {
      throw .truncated
    } else {
      throw .corrupt("\(rest.count) bytes of non-gzip data after the member ending at byte \(consumed)")
    }
  }

  /// zlib's message for a failed `inflate`, with its two checksum messages made specific.
  private func failure(_ status: Int32) -> InflateError {
    precondition(status == Z_DATA_ERROR, "inflate failed with zlib status \(status) (not a data error)")
    let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
    switch message {
    case "incorrect data check":
      return .corrupt(
        format == .gzip
          ? "CRC-32 mismatch: the data does not match the checksum in the gzip trailer"
          : "Adler-32 mismatch: the data does not match the checksum at the end of the zlib stream")
    case "incorrect length check":
      return .corrupt("size mismatch: the data is not as long as the gzip trailer says")
    default:
      return .corrupt("\(message) (at or before compressed byte \(consumed))")
    }
  }
}
