import Testing
@testable import CNNVisualization
