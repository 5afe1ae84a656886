#include <fstream>

#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "trainers/callbacks.h"
#include "tests/test_util.h"

using namespace regula;
using namespace regula::trainers;
using regula::testutil::RegulaTest;

namespace {
// Feeds a sequence of monitored values as evaluations; returns the step it stopped at.
int64_t feed(EarlyStopping& es, TrainState& s, const std::vector<double>& values) {
  es.on_train_begin(s);
  for (std::size_t i = 0; i < values.size(); ++i) {
    s.step = static_cast<int64_t>(i + 1);
    s.metrics["val_loss"] = values[i];
    es.on_eval_end(s);
    if (s.stop) return s.step;
  }
  return -1;
}
}  // namespace

TEST(EarlyStopping, PatienceCountsEvaluationsWithoutImprovement) {
  EarlyStopping es(EarlyStoppingOptions().patience(2));
  TrainState s;
  EXPECT_EQ(feed(es, s, {3, 2, 2.5, 2.1, 1.0}), 4);
  EXPECT_DOUBLE_EQ(es.best(), 2.0);
  EXPECT_EQ(es.best_step(), 2);
  EXPECT_EQ(es.stopped_step(), 4);
  EXPECT_NE(s.stop_reason.find("did not improve"), std::string::npos);
}

TEST(EarlyStopping, MinDeltaAndMaxMode) {
  EarlyStopping es(EarlyStoppingOptions().patience(1).min_delta(0.5));
  TrainState s;
  EXPECT_EQ(feed(es, s, {3, 2.8}), 2);  // 0.2 is not an improvement of more than 0.5
  EarlyStopping up(EarlyStoppingOptions().patience(1).mode("max"));
  TrainState t;
  EXPECT_EQ(feed(up, t, {1, 2, 3, 2.5}), 4);
  EXPECT_DOUBLE_EQ(up.best(), 3.0);
}

TEST(EarlyStopping, StopsAtOnceOnNonFinite) {
  EarlyStopping es(EarlyStoppingOptions().patience(100));
  TrainState s;
  EXPECT_EQ(feed(es, s, {1, std::nan("")}), 2);
  EXPECT_NE(s.stop_reason.find("not finite"), std::string::npos);
  EarlyStopping lax(EarlyStoppingOptions().patience(100).check_finite(false));
  TrainState t;
  EXPECT_EQ(feed(lax, t, {1, std::nan(""), 0.5}), -1);
  EXPECT_DOUBLE_EQ(lax.best(), 0.5);
}

TEST(DivergenceCheck, ThrowsWithTheFixOnNonFiniteOrExplodingLoss) {
  const auto feed_loss = [](DivergenceCheck& dc, const std::vector<double>& values) {
    TrainState s;
    for (std::size_t i = 0; i < values.size(); ++i) {
      s.step = static_cast<int64_t>(10 * (i + 1));
      s.metrics["train_loss"] = values[i];
      dc.on_eval_end(s);
    }
  };
  DivergenceCheck ok(DivergenceCheckOptions().factor(100));
  EXPECT_NO_THROW(feed_loss(ok, {1.0, 50.0, 0.1}));
  DivergenceCheck up(DivergenceCheckOptions().factor(100).fix("a smaller train.optimizer.lr"));
  try {
    feed_loss(up, {1.0, 2.0, 150.0});
    FAIL() << "expected a DivergenceError";
  } catch (const DivergenceError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("step 30"), std::string::npos) << msg;
    EXPECT_NE(msg.find("a smaller train.optimizer.lr"), std::string::npos) << msg;
  }
  DivergenceCheck nan;
  EXPECT_THROW(feed_loss(nan, {1.0, std::nan("")}), DivergenceError);
  EXPECT_THROW(DivergenceCheck(DivergenceCheckOptions().factor(1.0)), ConfigError);
}

TEST(EarlyStopping, BadOptionsAndUnknownMetric) {
  EXPECT_THROW(EarlyStopping(EarlyStoppingOptions().mode("lowest")), ConfigError);
  EXPECT_THROW(EarlyStopping(EarlyStoppingOptions().patience(0)), ConfigError);
  EarlyStopping es(EarlyStoppingOptions().monitor("val_acc"));
  TrainState s;
  s.metrics["val_loss"] = 1;
  EXPECT_THROW(es.on_eval_end(s), ConfigError);
}

TEST(EarlyStopping, RestoresBestWeightsWhateverStopped) {
  torch::nn::Linear model(2, 1);
  EarlyStopping es(EarlyStoppingOptions().patience(5));
  TrainState s;
  s.model = model.get();
  es.on_train_begin(s);
  std::vector<torch::Tensor> seen;
  for (double v : {3.0, 1.0, 2.0}) {
    {
      torch::NoGradGuard g;
      model->weight.add_(1.0);
    }
    seen.push_back(model->weight.detach().clone());
    ++s.step;
    s.metrics["val_loss"] = v;
    es.on_eval_end(s);
  }
  EXPECT_FALSE(s.stop);  // the run ended by itself, not by patience
  es.on_train_end(s);
  EXPECT_TRUE(torch::equal(model->weight, seen[1]));
}

class EarlyStoppingResume : public RegulaTest {};

TEST_F(EarlyStoppingResume, StateSurvivesACheckpoint) {
  torch::nn::Linear model(2, 1);
  EarlyStopping a(EarlyStoppingOptions().patience(3));
  TrainState s;
  s.model = model.get();
  feed(a, s, {3, 1, 2});
  core::CheckpointWriter w;
  a.save(w, "es.");
  w.commit(tmp() / "c.pt");
  EarlyStopping b(EarlyStoppingOptions().patience(3));
  TrainState t;
  t.model = model.get();
  b.on_train_begin(t);
  core::CheckpointReader r(tmp() / "c.pt");
  b.load(r, "es.");
  EXPECT_DOUBLE_EQ(b.best(), 1.0);
  EXPECT_EQ(b.best_step(), 2);
  // One more non-improving evaluation (wait was 1) -> 2, then a third stops.
  t.step = 4, t.metrics["val_loss"] = 5;
  b.on_eval_end(t);
  EXPECT_FALSE(t.stop);
  t.step = 5;
  b.on_eval_end(t);
  EXPECT_TRUE(t.stop);
}

class CsvLoggerTest : public RegulaTest {};

TEST_F(CsvLoggerTest, WritesOneRowPerEvaluation) {
  const auto path = (tmp() / "metrics.csv").string();
  {
    CsvLogger log(path);
    TrainState s;
    s.metrics = {{"loss", 0.5}, {"val_loss", 0.25}};
    s.step = 10;
    log.on_eval_end(s);
    s.step = 20;
    log.on_eval_end(s);
  }
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "step,loss,val_loss\n10,0.5,0.25\n20,0.5,0.25\n");
}
