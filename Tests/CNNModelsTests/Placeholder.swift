import Testing
@testable import CNNModels

