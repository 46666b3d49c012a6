import Testing
@testable import CNNLayers

