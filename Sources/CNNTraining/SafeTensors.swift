import CNNTensor

/// The safetensors file format (huggingface/safetensors), the layout of CNNKit checkpoints.
///
/// A file is three parts, all little-endian:
///
///     [8 bytes]  N, the header length, an unsigned 64-bit integer
///     [N bytes]  a JSON object, padded with spaces to a multiple of 8 bytes:
///                {"__metadata__": {"format": "cnnkit", …},
///                 "0.weight": {"dtype": "F32", "shape": [30, 1, 5, 5], "data_offsets": [0, 3000]}, …}
///     [rest]     the tensors' bytes, row-major; `data_offsets` count from the end of the header
///
/// `__metadata__` is optional and maps strings to strings. The tensors' byte ranges cover the
/// data exactly, without gaps or overlaps. `SafeTensorsFile` reads and validates a file;
/// `SafeTensors.encode(_:metadata:)` and `SafeTensors.write(_:metadata:to:)` write one.
public enum SafeTensors {
  /// The largest header accepted, 100 MB, as in the reference implementation.
  public static let maximumHeaderLength = 100_000_000

  /// An element type of the format, by its name in the header (`"F32"`).
  public enum DType: String, CaseIterable, Sendable {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case float8E5M2 = "F8_E5M2"
    case float8E4M3 = "F8_E4M3"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes per element.
    public var byteCount: Int {
      switch self {
      case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: return 1
      case .int16, .uint16, .float16, .bfloat16: return 2
      case .int32, .uint32, .float32: return 4
      case .float64, .int64, .uint64: return 8
      }
    }

    /// Whether CNNKit converts this type to `Float` for any tensor: F32, and F16, BF16 and
    /// F64, which are converted on load (F64 rounds to nearest).
    public var isConvertibleFloatingPoint: Bool {
      switch self {
      case .float16, .bfloat16, .float32, .float64: return true
      default: return false
      }
    }

    /// Whether this is an integer type (converted to `Float` only for counters such as
    /// `num_batches_tracked`).
    public var isInteger: Bool {
      switch self {
      case .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64: return true
      default: return false
      }
    }
  }

  /// Where one tensor sits in a file.
  public struct TensorInfo: Sendable, Equatable {
    /// The tensor's key (`"layer1.0.conv1.weight"`).
    public var name: String
    /// The element type.
    public var dtype: DType
    /// The dimensions, outermost first; `[]` for a scalar.
    public var shape: Shape
    /// The byte range in the data section (after the header).
    public var dataOffsets: Range<Int>

    public init(name: String, dtype: DType, shape: Shape, dataOffsets: Range<Int>) {
      self.name = name
      self.dtype = dtype
      self.shape = shape
      self.dataOffsets = dataOffsets
    }
  }
}
