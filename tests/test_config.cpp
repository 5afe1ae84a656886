#include <filesystem>

#include <gtest/gtest.h>

#include "core/config.h"

using regula::ConfigError;
using regula::core::Config;

namespace {

// The message of the ConfigError that `f` throws (fails the test if none).
template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

}  // namespace

TEST(Config, ReadsTypedValuesAndDefaults) {
  auto cfg = Config::from_string("train:\n  eta: 1e-3\n  steps: 500\n  widths: [64, 64]\n  nested: {flag: true}\n", "t");
  auto train = cfg.root().section("train");
  EXPECT_DOUBLE_EQ(train.get<double>("eta", 0.5), 1e-3);
  EXPECT_EQ(train.get<int64_t>("steps", 1), 500);
  EXPECT_EQ(train.get<std::vector<int64_t>>("widths", {}), (std::vector<int64_t>{64, 64}));
  EXPECT_TRUE(train.section("nested").get<bool>("flag", false));
  EXPECT_EQ(train.get<std::string>("optimizer", "adam"), "adam");
  EXPECT_FALSE(train.optional<double>("lambda").has_value());
  EXPECT_NO_THROW(cfg.finish());
}

TEST(Config, OverridesUseDottedPathsAndYamlValues) {
  auto cfg = Config::from_string("train:\n  eta: 0.1\n", "t");
  cfg.apply_overrides({"train.eta=1e-3", "model.widths=[8,16]", "model.bias=false", "name=run a"});
  auto root = cfg.root();
  EXPECT_DOUBLE_EQ(root.section("train").get<double>("eta", 0), 1e-3);
  auto model = root.section("model");
  EXPECT_EQ(model.get<std::vector<int64_t>>("widths", {}), (std::vector<int64_t>{8, 16}));
  EXPECT_FALSE(model.get<bool>("bias", true));
  EXPECT_EQ(root.get<std::string>("name", ""), "run a");
  cfg.finish();
}

TEST(Config, MalformedYamlNamesLineAndOrigin) {
  const auto msg = config_error([] { Config::from_string("a: [1, 2\nb: 3\n", "bad.yaml"); });
  EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed YAML"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line"), std::string::npos) << msg;
}

TEST(Config, TopLevelMustBeAMap) {
  const auto msg = config_error([] { Config::from_string("- 1\n- 2\n", "list.yaml"); });
  EXPECT_NE(msg.find("map"), std::string::npos) << msg;
}

TEST(Config, MissingFileIsAConfigError) {
  const auto msg = config_error([] { Config::from_file("/nonexistent/regula.yaml"); });
  EXPECT_NE(msg.find("/nonexistent/regula.yaml"), std::string::npos) << msg;
}

TEST(Config, UnknownKeySuggestsNearest) {
  auto cfg = Config::from_string("train:\n  etaa: 0.1\n", "run.yaml");
  auto train = cfg.root().section("train");
  train.get<double>("eta", 0.5);
  train.get<int64_t>("steps", 10);
  const auto msg = config_error([&] { cfg.finish(); });
  EXPECT_NE(msg.find("unknown key 'train.etaa'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'train.eta'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("steps"), std::string::npos) << msg;  // lists the valid keys
}

TEST(Config, UnknownTopLevelSectionIsReported) {
  auto cfg = Config::from_string("modle:\n  depth: 3\n", "run.yaml");
  cfg.root().section("model").get<int64_t>("depth", 2);
  const auto msg = config_error([&] { cfg.finish(); });
  EXPECT_NE(msg.find("did you mean 'model'"), std::string::npos) << msg;
}

TEST(Config, WrongTypeNamesKeyValueAndExpectedType) {
  auto cfg = Config::from_string("steps: many\nwidths: 3x\n", "t");
  auto root = cfg.root();
  auto msg = config_error([&] { root.get<int64_t>("steps", 1); });
  EXPECT_NE(msg.find("'steps' must be an integer, got 'many'"), std::string::npos) << msg;
  msg = config_error([&] { root.get<std::vector<int64_t>>("widths", {}); });
  EXPECT_NE(msg.find("list of integers"), std::string::npos) << msg;
}

TEST(Config, StringRejectsAMap) {
  auto cfg = Config::from_string("name: {a: 1}\n", "t");
  EXPECT_THROW(cfg.root().get<std::string>("name", ""), ConfigError);
}

TEST(Config, CheckNamesKeyValueAndValidRange) {
  auto cfg = Config::from_string("eta: -1\n", "t");
  auto root = cfg.root();
  const double eta = root.get<double>("eta", 0.1);
  const auto msg = config_error([&] { root.check(eta > 0, "eta", "must be > 0"); });
  EXPECT_NE(msg.find("'eta' = -1: must be > 0"), std::string::npos) << msg;
}

TEST(Config, CheckChoiceSuggests) {
  auto cfg = Config::from_string("act: tnah\n", "t");
  auto root = cfg.root();
  const auto act = root.get<std::string>("act", "tanh");
  const auto msg = config_error([&] { root.check_choice("act", act, {"tanh", "sigmoid", "relu"}); });
  EXPECT_NE(msg.find("did you mean 'tanh'"), std::string::npos) << msg;
}

TEST(Config, MissingRequiredKey) {
  auto cfg = Config::from_string("{}", "t");
  const auto msg = config_error([&] { cfg.root().require<std::string>("path"); });
  EXPECT_NE(msg.find("missing required key 'path'"), std::string::npos) << msg;
}

TEST(Config, BadOverrides) {
  auto cfg = Config::from_string("a: 1\n", "t");
  EXPECT_THROW(cfg.apply_override("noequals"), ConfigError);
  EXPECT_THROW(cfg.apply_override("x=[1, 2"), ConfigError);
  EXPECT_THROW(cfg.apply_override("a.b=2"), ConfigError);  // 'a' is a value
}

TEST(Config, ResolvedConfigReproducesTheRun) {
  auto cfg = Config::from_string("train:\n  eta: 0.1\n", "t");
  cfg.apply_override("train.steps=7");
  auto read = [](Config& c) {
    auto t = c.root().section("train");
    return std::make_tuple(t.get<double>("eta", 1.0), t.get<int64_t>("steps", 1), t.get<double>("alpha", 1e-6),
                           t.get<std::vector<double>>("values", {1.0, 2.5}));
  };
  const auto first = read(cfg);
  auto again = Config::from_string(cfg.resolved_yaml(), "resolved");
  EXPECT_EQ(read(again), first);
  again.finish();
  // Defaults are written out too, so the file is complete.
  EXPECT_NE(cfg.resolved_yaml().find("alpha: 1e-06"), std::string::npos) << cfg.resolved_yaml();
}

TEST(Config, EditDistance) {
  EXPECT_EQ(regula::core::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(regula::core::edit_distance("", "abc"), 3u);
  EXPECT_EQ(regula::core::edit_distance("eta", "eta"), 0u);
}

TEST(Config, ShapeTellsTheFormOfAValue) {
  using Shape = regula::core::Section::Shape;
  auto cfg = Config::from_string("a: data\nb: [0, 1]\nc: [[0, 1], [2, 3]]\nd: {x: 1}\ne: ~\n", "t");
  auto root = cfg.root();
  EXPECT_EQ(root.shape("a"), Shape::kScalar);
  EXPECT_EQ(root.shape("b"), Shape::kList);
  EXPECT_EQ(root.shape("c"), Shape::kNestedList);
  EXPECT_EQ(root.shape("d"), Shape::kMap);
  EXPECT_EQ(root.shape("e"), Shape::kAbsent);
  EXPECT_EQ(root.shape("missing"), Shape::kAbsent);
}

TEST(Config, RepeatedKeysAreRefusedWithBothLines) {
  try {
    Config::from_string("train:\n  lr: 0.1\n  steps: 5\n  lr: 0.2\n", "<t>");
    FAIL() << "a repeated key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("key 'train.lr' is given twice (lines 2 and 4)"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(Config::from_string("a: {x: 1}\nb: {x: 2}\n", "<t>"));  // same name, other sections
}

TEST(Config, AKindSwitchedOnTheCommandLineNamesTheKeysToDrop) {
  const std::string yaml = "data:\n  kind: synthetic\n  target: cubic\n";
  auto config = Config::from_string(yaml, "<t>");
  config.apply_override("data.kind=csv");
  auto data = config.root().section("data");
  data.template get<std::string>("kind", "synthetic");
  data.template get<std::string>("path", "");
  try {
    config.finish();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'data.target' is not a key of data.kind = csv, which the command line set"),
              std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("data.target=null"), std::string::npos) << e.what();
  }
  // The fix the message gives works.
  auto fixed = Config::from_string(yaml, "<t>");
  fixed.apply_overrides({"data.kind=csv", "data.target=null"});
  auto d2 = fixed.root().section("data");
  d2.template get<std::string>("kind", "synthetic");
  d2.template get<std::string>("path", "");
  EXPECT_NO_THROW(fixed.finish());
}

TEST(Config, RelativePathsAreRecordedAbsolute) {
  auto config = Config::from_string("data: {x: some/dir/X.npy, w: ''}\n", "<t>");
  auto data = config.root().section("data");
  const auto x = data.get_path("x");
  EXPECT_EQ(x, (std::filesystem::current_path() / "some/dir/X.npy").string());
  EXPECT_EQ(data.get_path("w"), "");
  EXPECT_NE(config.resolved_yaml().find(x), std::string::npos) << config.resolved_yaml();
  auto missing = Config::from_string("data: {}\n", "<t>");
  EXPECT_THROW(missing.root().section("data").get_path("x", true), ConfigError);
}

TEST(Config, AnAliasInsideItsOwnAnchorIsAnErrorNotAHang) {
  EXPECT_THROW(Config::from_string("a: &x {b: *x}\n", "<t>"), ConfigError);
  EXPECT_THROW(Config::from_string("a: &x [*x]\n", "<t>"), ConfigError);
  EXPECT_NO_THROW(Config::from_string("a: &x {b: 1}\nc: *x\n", "<t>"));  // an ordinary alias is fine
}
