import Testing
@testable import CNNTensor

