import Testing
@testable import CNNTraining

