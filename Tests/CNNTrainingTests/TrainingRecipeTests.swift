import CNNData
import CNNLayers
import CNNModels
import CNNOptimizers
import Testing

@testable import CNNTraining

@Suite struct TrainingRecipeTests {
  @Test func everyRecipeParsesAndIsSane() throws {
    for model in ModelName.allCases {
      let recipe = model.defaultRecipe
      #expect(recipe.epochs >= 1 && recipe.batchSize >= 1, "\(model)")
      #expect(try AugmentationPipeline(parsing: recipe.augmentation.description) == recipe.augmentation, "\(model)")
      #expect(try ScheduleSpecification(parsing: recipe.schedule.description) == recipe.schedule, "\(model)")
    }
  }

  @Test func simpleConvNetRecipeIsTheMeasuredOne() throws {
    let recipe = ModelName.simpleConvNet.defaultRecipe
    #expect(recipe.epochs == 12 && recipe.batchSize == 100 && recipe.optimizer == .adam)
    #expect(recipe.initialization == .he)
    #expect(recipe.augmentation.description == "crop=2")
    #expect(recipe.schedule.description == "cosine")
    let schedule = recipe.schedule.planned(baseLearningRate: 0.001, epochs: 12)
    #expect(!schedule.isConstant)
    #expect(schedule.learningRate(epoch: 12) < schedule.learningRate(epoch: 1))
  }

  /// On a full-size training set the digit recipes keep everything but the shifts.
  @Test func fullSizeTrainingSetsDropTheShifts() throws {
    let threshold = ModelName.fullSizeTrainingSet
    for model in [ModelName.simpleConvNet, .mnistCNN, .lenet5] {
      let small = model.defaultRecipe(trainingImages: threshold - 1)
      let large = model.defaultRecipe(trainingImages: threshold)
      #expect(small == model.defaultRecipe, "\(model)")
      #expect(small.augmentation.description == "crop=2", "\(model)")
      #expect(large.augmentation.isEmpty, "\(model)")
      var rest = large
      rest.augmentation = small.augmentation
      #expect(rest.fullSizeAugmentation == AugmentationPipeline.none && rest == small, "\(model): only the augmentation changes")
    }
  }

  /// The CIFAR-10 recipe is the seed's optimizer and batch size, with flips and crops at any size.
  @Test func cifarRecipeKeepsItsAugmentation() throws {
    let recipe = ModelName.cifarCNN.defaultRecipe
    #expect(recipe.optimizer == .rmsprop && recipe.batchSize == 128 && recipe.learningRate == nil)
    #expect(recipe.augmentation.description == "flip,crop=4")
    #expect(ModelName.cifarCNN.defaultRecipe(trainingImages: 50_000) == recipe)
    #expect(recipe.schedule.description == "cosine,warmup=1")
  }

  @Test func seedsRecipeHasNoExtras() throws {
    let seeds = TrainingRecipe.seeds
    #expect(seeds.epochs == 20 && seeds.batchSize == 100 && seeds.optimizer == .adam && seeds.initialization == nil)
    #expect(seeds.augmentation.isEmpty)
    #expect(seeds.schedule.isConstant)
  }
}
