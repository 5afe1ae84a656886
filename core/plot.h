#pragma once
/// \file Runs scripts/plot.py (matplotlib) on a run's CSV files.
#include <filesystem>
#include <string>

namespace regula::core {

/// Runs `python plot.py <kind> <run_dir>` when a Python with matplotlib is found:
/// $REGULA_PYTHON if set (set it empty to skip plots), else the Python whose torch this
/// process loaded, then python3.  The script is plot_script().
/// Otherwise logs one line saying how to plot later.  Returns whether plots
/// were made.  Never throws: plots are a convenience, not part of a result.
bool run_plot_script(const std::string& kind, const std::filesystem::path& run_dir);

/// The plot script, found at run time (no build paths are compiled in): $REGULA_PLOT_SCRIPT
/// if set, else `share/regula/plot.py` under the nearest ancestor of the running program's
/// directory that has one: `<prefix>/bin/regula` finds `<prefix>/share/regula/plot.py` once
/// installed, and programs in the build tree find `<build>/share/regula/plot.py`, a link to
/// scripts/plot.py.  Empty when there is none (a program outside both: set the variable).
std::filesystem::path plot_script();

}  // namespace regula::core
