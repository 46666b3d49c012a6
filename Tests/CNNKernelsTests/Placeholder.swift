import Testing
@testable import CNNKernels

