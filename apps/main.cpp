// regula: the command-line front end.  No math lives here: each subcommand
// parses its config into option structs and calls the library.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include "apps/commands.h"
#include "core/distributed.h"
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
    // Only rank 0 of a distributed run reports progress; the others print their errors.
    const bool main_rank = regula::core::distributed().is_main();
    regula::core::set_log_level(quiet || !main_rank ? LogLevel::kQuiet : verbose ? LogLevel::kVerbose : LogLevel::kInfo);
  });
  regula::apps::add_demo_command(app);
  regula::apps::add_info_command(app);
  regula::apps::add_recover_command(app);
  regula::apps::add_sweep_command(app);
  regula::apps::add_train_command(app);
  regula::apps::add_pinn_command(app);
  // Exit codes (README, "Exit codes"): 0 done; 2 bad input or a refused run (command line,
  // config, data, checkpoint, divergence: one line naming the problem and the fix);
  // 3 an internal error (a bug: please report it with the command line); 4 a distributed
  // run lost a rank (it died or timed out) or could not form.
  using regula::core::rank_prefix;
  const auto failed = [](int code) {
    regula::core::shutdown_distributed(/*failed=*/true);
    return code;
  };
  try {
    regula::core::init_distributed();  // torchrun / srun launch environment; a world of one otherwise
    app.parse(argc, argv);
    regula::core::shutdown_distributed(/*failed=*/false);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string commands;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
    }
    const std::string what = e.what();
    if (argc < 2 || (argv[1][0] != '-' && app.get_subcommands().empty())) {
      std::fprintf(stderr, "error: %s%s%s: the commands are %s (regula --help; regula <command> --help)\n",
                   argc < 2 ? "no command given" : "unknown command '", argc < 2 ? "" : argv[1], argc < 2 ? "" : "'",
                   commands.c_str());
    } else {
      std::fprintf(stderr, "error: %s (regula %s--help lists the options)\n", what.c_str(),
                   app.get_subcommands().empty() ? "" : (app.get_subcommands().front()->get_name() + " ").c_str());
    }
    return failed(2);
  } catch (const regula::DistributedError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());  // names its rank
    return failed(4);
  } catch (const regula::Error& e) {
    std::fprintf(stderr, "error: %s%s\n", rank_prefix().c_str(), e.what());
    return failed(2);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: %s%s\n", rank_prefix().c_str(), e.what_without_backtrace());
    return failed(3);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s%s\n", rank_prefix().c_str(), e.what());
    return failed(3);
  }
  return 0;
}
