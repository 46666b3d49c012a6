extension SafeTensors {
  /// The elements of `bytes` (little-endian, of type `dtype`) as `Float`s.
  ///
  /// F16 and BF16 widen exactly; F64 rounds to nearest (values beyond `Float`'s range become
  /// infinities); integers convert to the nearest `Float` (exact up to 2²⁴). BOOL and the F8
  /// types are not handled and trap: callers check `dtype` first.
  static func decode(_ bytes: UnsafeRawBufferPointer, as dtype: DType) -> [Float] {
    let count = bytes.count / dtype.byteCount
    func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
      T(littleEndian: bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
    }
    return [Float](unsafeUninitializedCapacity: count) { out, initialized in
      switch dtype {
      case .float32:
        #if _endian(little)
          UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<(count * 4)]))
        #else
          for i in 0..<count { out[i] = Float(bitPattern: load(UInt32.self, i)) }
        #endif
      case .float16:
        for i in 0..<count { out[i] = floatFromHalf(load(UInt16.self, i)) }
      case .bfloat16:
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(load(UInt16.self, i)) << 16) }
      case .float64:
        for i in 0..<count { out[i] = Float(Double(bitPattern: load(UInt64.self, i))) }
      case .uint8:
        for i in 0..<count { out[i] = Float(load(UInt8.self, i)) }
      case .int8:
        for i in 0..<count { out[i] = Float(load(Int8.self, i)) }
      case .int16:
        for i in 0..<count { out[i] = Float(load(Int16.self, i)) }
      case .uint16:
        for i in 0..<count { out[i] = Float(load(UInt16.self, i)) }
      case .int32:
        for i in 0..<count { out[i] = Float(load(Int32.self, i)) }
      case .uint32:
        for i in 0..<count { out[i] = Float(load(UInt32.self, i)) }
      case .int64:
        for i in 0..<count { out[i] = Float(load(Int64.self, i)) }
      case .uint64:
        for i in 0..<count { out[i] = Float(load(UInt64.self, i)) }
      case .bool, .float8E4M3, .float8E5M2:
        preconditionFailure("SafeTensors.decode cannot convert \(dtype.rawValue) to Float")
      }
      initialized = count
    }
  }

  /// The little-endian bytes of `scalars` as F32.
  static func encodeFloat32(_ scalars: UnsafeBufferPointer<Float>) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: scalars.count * 4) { out, initialized in
      #if _endian(little)
        UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(scalars))
      #else
        for (i, value) in scalars.enumerated() {
          let bits = value.bitPattern
          for byte in 0..<4 { out[4 * i + byte] = UInt8(truncatingIfNeeded: bits >> (8 * byte)) }
        }
      #endif
      initialized = scalars.count * 4
    }
  }
}

/// IEEE 754 binary16 → binary32, exactly (without `Float16`, which macOS on Intel lacks).
func floatFromHalf(_ bits: UInt16) -> Float {
  let sign = UInt32(bits & 0x8000) << 16
  let exponent = UInt32(bits >> 10) & 0x1F
  let mantissa = UInt32(bits) & 0x3FF
  switch exponent {
  case 0:
    // Zero or subnormal: mantissa · 2⁻²⁴, exact in binary32.
    let magnitude = Float(mantissa) * 0x1p-24
    return sign != 0 ? -magnitude : magnitude
  case 0x1F:
    // Infinity or NaN (payload kept).
    return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
  default:
    return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
  }
}
