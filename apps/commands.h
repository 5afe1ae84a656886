#pragma once
/// \file The subcommands of `regula`, one file each.  Each adds itself to
/// the CLI11 app; its callback does the work and may throw regula::Error.
#include <CLI/CLI.hpp>

namespace regula::apps {

void add_info_command(CLI::App& app);

}  // namespace regula::apps
