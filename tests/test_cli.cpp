// The command line as a user meets it first: the documented exit codes and one
// clear line for a wrong command, a wrong option or a wrong file.
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"

using regula::testutil::RegulaTest;
using regula::testutil::regula_bin;
using regula::testutil::run_command;

class Cli : public RegulaTest {};

TEST_F(Cli, ExitCodesAreTheDocumentedOnes) {
  const auto regula = [&](const std::string& args) {
    return run_command(fmt::format("cd {} && REGULA_PYTHON= {} {}", tmp().string(), regula_bin(), args));
  };
  EXPECT_EQ(regula("--help").status, 0);
  EXPECT_EQ(regula("recover --help").status, 0);
  // Bad input: 2, with one line that says what to do.
  const auto bogus = regula("bogus");
  EXPECT_EQ(bogus.status, 2) << bogus.output;
  EXPECT_NE(bogus.output.find("unknown command 'bogus': the commands are demo, info, recover, sweep, train"),
            std::string::npos) << bogus.output;
  const auto none = regula("");
  EXPECT_EQ(none.status, 2) << none.output;
  EXPECT_NE(none.output.find("no command given"), std::string::npos) << none.output;
  const auto option = regula("recover --bogus");
  EXPECT_EQ(option.status, 2) << option.output;
  EXPECT_NE(option.output.find("regula recover --help"), std::string::npos) << option.output;
  const auto dir = regula("sweep --config " + tmp().string());
  EXPECT_EQ(dir.status, 2) << dir.output;
  EXPECT_NE(dir.output.find("is a directory: give a YAML file"), std::string::npos) << dir.output;
  std::ofstream(tmp() / "twice.yaml") << "train:\n  lr: 0.1\n  lr: 0.2\n";
  const auto twice = regula("recover --config " + (tmp() / "twice.yaml").string());
  EXPECT_EQ(twice.status, 2) << twice.output;
  EXPECT_NE(twice.output.find("key 'train.lr' is given twice (lines 2 and 3)"), std::string::npos) << twice.output;
  for (const auto& name : {"../outside", "/abs"}) {
    const auto r = regula(fmt::format("recover device=cpu name={}", name));
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("a non-empty name without '/'"), std::string::npos) << r.output;
  }
  // Absurd sizes are refused before anything is allocated, naming what to reduce.
  for (const auto& [args, key] : std::vector<std::pair<std::string, std::string>>{
           {"recover device=cpu data.d=1000000000", "reduce data.d"},
           {"train device=cpu model.hidden=[100000,100000] variants=[none]", "reduce model.hidden"}}) {
    const auto r = regula(args);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("GiB of memory but the machine has"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(key), std::string::npos) << r.output;
  }
  const auto deriv = regula("train device=cpu output.derivatives=100");
  EXPECT_EQ(deriv.status, 2) << deriv.output;
  EXPECT_NE(deriv.output.find("orders 0..8"), std::string::npos) << deriv.output;
}
