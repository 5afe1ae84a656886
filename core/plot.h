#pragma once
/// \file Runs scripts/plot.py (matplotlib) on a run's CSV files.
#include <filesystem>
#include <string>

namespace regula::core {

/// Runs `python scripts/plot.py <kind> <run_dir>` when a Python with
/// matplotlib is found: $REGULA_PYTHON if set (set it empty to skip plots),
/// else the build's Python, then python3.
/// Otherwise logs one line saying how to plot later.  Returns whether plots
/// were made.  Never throws: plots are a convenience, not part of a result.
bool run_plot_script(const std::string& kind, const std::filesystem::path& run_dir);

}  // namespace regula::core
