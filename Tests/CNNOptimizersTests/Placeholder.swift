import Testing
@testable import CNNOptimizers

