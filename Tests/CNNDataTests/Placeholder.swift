import Testing
@testable import CNNData

