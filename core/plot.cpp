#include "core/plot.h"

#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "core/logging.h"

#ifndef REGULA_SOURCE_DIR
#define REGULA_SOURCE_DIR "."
#endif
#ifndef REGULA_DEFAULT_PYTHON
#define REGULA_DEFAULT_PYTHON "python3"
#endif

namespace regula::core {
namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

bool run_plot_script(const std::string& kind, const std::filesystem::path& run_dir) {
  const std::filesystem::path script = std::filesystem::path(REGULA_SOURCE_DIR) / "scripts" / "plot.py";
  // $REGULA_PYTHON, when set, is the only interpreter tried (empty: no plots).
  const char* env = std::getenv("REGULA_PYTHON");
  const std::vector<std::string> candidates =
      env ? std::vector<std::string>{env} : std::vector<std::string>{REGULA_DEFAULT_PYTHON, "python3"};
  std::string python;
  for (const auto& candidate : candidates) {
    if (candidate.empty()) continue;
    const std::string probe = fmt::format("{} -c 'import matplotlib' >/dev/null 2>&1", quote(candidate));
    if (std::system(probe.c_str()) == 0) {
      python = candidate;
      break;
    }
  }
  const std::string cmd = fmt::format("{} {} {}", quote(python.empty() ? "python3" : python),
                                      quote(script.string()), fmt::format("{} {}", kind, quote(run_dir.string())));
  if (python.empty() || !std::filesystem::exists(script)) {
    log_info("plots skipped (no Python with matplotlib found); to plot later: {}", cmd);
    return false;
  }
  // The script names each PNG it writes; --quiet silences those lines too.
  if (std::system((cmd + (log_level() >= LogLevel::kInfo ? " >&2" : " >/dev/null 2>&1")).c_str()) != 0) {
    log_warn("plotting failed; rerun it by hand to see why: {}", cmd);
    return false;
  }
  return true;
}

}  // namespace regula::core
