import Testing

@testable import CNNTraining

@Suite struct JSONLineTests {
  @Test func epochEventKeepsKeyOrderAndSnakeCase() {
    let summary = EpochSummary(
      epoch: 3, trainLoss: 0.125, trainAccuracy: 0.96, testLoss: 0.25, testAccuracy: 0.965, seconds: 1.23456,
      evaluationSeconds: 0.1, imagesPerSecond: 12_345.6)
    let text = TrainingEvent.epoch(summary).jsonLine.description
    #expect(
      text == #"{"event":"epoch","epoch":3,"train_loss":0.125,"train_accuracy":0.96,"test_loss":0.25,"#
        + #""test_accuracy":0.965,"seconds":1.235,"evaluation_seconds":0.1,"images_per_second":12346.0}"#)
  }

  @Test func stringsAreEscapedAndNonFiniteNumbersStayValidJSON() {
    var line = JSONLine()
    line.append("name", "a \"quoted\"\nline\u{1}")
    line.append("loss", Float.nan)
    line.append("missing", nil as Float?)
    #expect(line.description == #"{"name":"a \"quoted\"\nline\u0001","loss":"NaN","missing":null}"#)
  }
}
