// CNNKit: `import CNNKit` brings in every library module.
@_exported import CNNKernels
@_exported import CNNTensor
@_exported import CNNLayers
@_exported import CNNOptimizers
@_exported import CNNData
@_exported import CNNModels
@_exported import CNNTraining
@_exported import CNNVisualization
