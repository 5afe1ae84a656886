// regula: the command-line front end.  No math lives here: each subcommand
// parses its config into option structs and calls the library.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include "apps/commands.h"
#include "core/errors.h"
#include "core/logging.h"

int main(int argc, char** argv) {
  CLI::App app{"Regula: regularization in neural networks (LibTorch)"};
  app.require_subcommand(1);
  bool quiet = false, verbose = false;
  app.add_flag("--quiet,-q", quiet, "only errors and results");
  app.add_flag("--verbose,-v", verbose, "more detail");
  app.parse_complete_callback([&] {
    using regula::core::LogLevel;
    regula::core::set_log_level(quiet ? LogLevel::kQuiet : verbose ? LogLevel::kVerbose : LogLevel::kInfo);
  });
  regula::apps::add_demo_command(app);
  regula::apps::add_info_command(app);
  regula::apps::add_recover_command(app);
  regula::apps::add_sweep_command(app);
  regula::apps::add_train_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const regula::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what_without_backtrace());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  }
  return 0;
}
