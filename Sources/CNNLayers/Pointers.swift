import CNNTensor

// Several tensors' pointers at once, for the kernel calls inside layers: one closure instead
// of a pyramid of nested `withPointer` calls.
//
//     withPointers(input, weight.value, dOutput) { x, w, dy in
//       withMutablePointers(&dInput, &weight.gradient) { dx, dw in … }
//     }

/// Something whose elements a kernel can read through a pointer for the duration of a call:
/// a `Tensor` (`UnsafePointer<Float>`), an optional tensor (`nil` stays `nil`), or an
/// `[Int32]` of pooling winners.
protocol ReadablePointerSource {
  associatedtype Pointer
  func withSourcePointer<R>(_ body: (Pointer) -> R) -> R
}

extension Tensor: ReadablePointerSource {
  func withSourcePointer<R>(_ body: (UnsafePointer<Float>) -> R) -> R { withPointer(body) }
}

extension Optional: ReadablePointerSource where Wrapped == Tensor {
  func withSourcePointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor = self else { return body(nil) }
    return tensor.withPointer { body($0) }
  }
}

extension Array: ReadablePointerSource where Element == Int32 {
  /// A pointer to the first element (`nil` for an empty array).
  func withSourcePointer<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
    withUnsafeBufferPointer { body($0.baseAddress) }
  }
}

/// Calls `body` with pointers to the elements of `a` and `b`.
@inline(__always)
func withPointers<A: ReadablePointerSource, B: ReadablePointerSource, R>(
  _ a: A, _ b: B, _ body: (A.Pointer, B.Pointer) -> R
) -> R {
  a.withSourcePointer { pa in b.withSourcePointer { pb in body(pa, pb) } }
}

/// Calls `body` with pointers to the elements of `a`, `b` and `c`.
@inline(__always)
func withPointers<A: ReadablePointerSource, B: ReadablePointerSource, C: ReadablePointerSource, R>(
  _ a: A, _ b: B, _ c: C, _ body: (A.Pointer, B.Pointer, C.Pointer) -> R
) -> R {
  a.withSourcePointer { pa in b.withSourcePointer { pb in c.withSourcePointer { pc in body(pa, pb, pc) } } }
}

/// Calls `body` with pointers to the elements of `a`, `b`, `c` and `d`.
@inline(__always)
func withPointers<
  A: ReadablePointerSource, B: ReadablePointerSource, C: ReadablePointerSource, D: ReadablePointerSource, R
>(
  _ a: A, _ b: B, _ c: C, _ d: D, _ body: (A.Pointer, B.Pointer, C.Pointer, D.Pointer) -> R
) -> R {
  withPointers(a, b, c) { pa, pb, pc in d.withSourcePointer { pd in body(pa, pb, pc, pd) } }
}

/// Calls `body` with mutable pointers to the elements of `a` and `b` (two distinct tensors,
/// e.g. `∂L/∂input` and a parameter's gradient).
@inline(__always)
func withMutablePointers<R>(
  _ a: inout Tensor, _ b: inout Tensor,
  _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> R
) -> R {
  a.withMutablePointer { pa in b.withMutablePointer { pb in body(pa, pb) } }
}

/// Calls `body` with mutable pointers to `dInput`, to `weight`'s gradient and to `bias`'s
/// gradient (`nil` without a bias): the outputs of a weighted layer's backward kernel.
@inline(__always)
func withGradientPointers<R>(
  _ dInput: inout Tensor, _ weight: Parameter, _ bias: Parameter?,
  _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) -> R
) -> R {
  withMutablePointers(&dInput, &weight.gradient) { dx, dw in
    guard let bias else { return body(dx, dw, nil) }
    return bias.gradient.withMutablePointer { db in body(dx, dw, db) }
  }
}
