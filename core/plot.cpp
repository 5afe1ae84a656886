#include "core/plot.h"

#include <link.h>

#include <cstdlib>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "core/logging.h"

namespace fs = std::filesystem;

namespace regula::core {
namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The loaded libc10.so, e.g. <venv>/lib/python3.11/site-packages/torch/lib/libc10.so.
fs::path loaded_libc10() {
  fs::path found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        if (info->dlpi_name == nullptr || fs::path(info->dlpi_name).filename() != "libc10.so") return 0;
        *static_cast<fs::path*>(out) = info->dlpi_name;
        return 1;
      },
      &found);
  return found;
}

// The interpreter of the environment whose torch wheel this process runs on:
// <prefix>/lib/pythonX.Y/site-packages/torch/lib/libc10.so -> <prefix>/bin/python3.
std::string torch_python() {
  const fs::path lib = loaded_libc10();
  if (lib.empty()) return "";
  const fs::path prefix = lib.parent_path().parent_path().parent_path().parent_path().parent_path().parent_path();
  std::error_code ec;
  const fs::path python = prefix / "bin" / "python3";
  return fs::exists(python, ec) ? python.string() : "";
}
}  // namespace

fs::path plot_script() {
  if (const char* env = std::getenv("REGULA_PLOT_SCRIPT")) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    const fs::path script = dir / "share" / "regula" / "plot.py";
    if (fs::is_regular_file(script, ec)) return script;
    if (dir == dir.root_path()) break;
  }
  return {};
}

bool run_plot_script(const std::string& kind, const fs::path& run_dir) {
  const fs::path script = plot_script();
  // $REGULA_PYTHON, when set, is the only interpreter tried (empty: no plots).
  const char* env = std::getenv("REGULA_PYTHON");
  const std::vector<std::string> candidates =
      env ? std::vector<std::string>{env} : std::vector<std::string>{torch_python(), "python3"};
  std::string python;
  for (const auto& candidate : candidates) {
    if (candidate.empty()) continue;
    const std::string probe = fmt::format("{} -c 'import matplotlib' >/dev/null 2>&1", quote(candidate));
    if (std::system(probe.c_str()) == 0) {
      python = candidate;
      break;
    }
  }
  std::error_code ec;
  if (script.empty() || !fs::is_regular_file(script, ec)) {
    log_info("plots skipped (no plot script{}); set REGULA_PLOT_SCRIPT to <prefix>/share/regula/plot.py to plot",
             script.empty() ? "" : " at " + script.string());
    return false;
  }
  const std::string cmd = fmt::format("{} {} {}", quote(python.empty() ? "python3" : python),
                                      quote(script.string()), fmt::format("{} {}", kind, quote(run_dir.string())));
  if (python.empty()) {
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
