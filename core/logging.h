#pragma once
/// \file fmt-based log lines with levels, and a progress reporter for long
/// loops: a live bar with rate and ETA when stderr is a terminal, plain
/// periodic lines otherwise (CI logs, files).
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <fmt/format.h>

// Regula is built against one fmt (Debian's, through the fmt shim, CMakeLists.txt); LibTorch
// bundles another.  A program compiled against the other still links and then misbehaves, so
// a mismatch stops the build here.  regula::regula defines the expected version.
#ifdef REGULA_EXPECTED_FMT_VERSION
static_assert(FMT_VERSION == REGULA_EXPECTED_FMT_VERSION,
              "Regula: <fmt/format.h> is not the fmt Regula was built with (LibTorch's bundled copy "
              "came first?): put Regula's fmt-shim include directory before torch's (link regula::regula)");
#endif

namespace regula::core {

enum class LogLevel { kQuiet = 0, kInfo = 1, kVerbose = 2 };

/// Process-wide verbosity (`--quiet` / `--verbose`).
void set_log_level(LogLevel level);
LogLevel log_level();

namespace detail {
void emit(LogLevel level, const char* tag, const std::string& text);
}

/// Normal output (hidden by --quiet).
template <class... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() >= LogLevel::kInfo) detail::emit(LogLevel::kInfo, "", fmt::format(f, std::forward<Args>(args)...));
}
/// Detail (shown with --verbose).
template <class... Args>
void log_verbose(fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() >= LogLevel::kVerbose) detail::emit(LogLevel::kVerbose, "", fmt::format(f, std::forward<Args>(args)...));
}
/// Warnings are shown unless --quiet.
template <class... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() >= LogLevel::kInfo) detail::emit(LogLevel::kInfo, "warning: ", fmt::format(f, std::forward<Args>(args)...));
}

/// Progress of a loop of `total` steps.  `update()` is cheap when nothing is
/// drawn; it draws at most ~10 times a second on a terminal and about every
/// `line_every_s` seconds (and at 0% / 100%) otherwise.
class Progress {
 public:
  Progress(std::string label, int64_t total, double line_every_s = 10.0);
  ~Progress();
  /// Reports that `done` steps are complete; `status` is shown after the bar.
  void update(int64_t done, const std::string& status = "");
  /// Finishes the bar (newline on terminals) at `done` steps (-1: all of them): a run that
  /// stopped early shows where it stopped, not 100%.
  void finish(const std::string& status = "", int64_t done = -1);
  bool enabled() const { return enabled_; }

 private:
  void draw(int64_t done, const std::string& status, bool final);
  std::string label_;
  int64_t total_;
  double line_every_s_;
  bool tty_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// Formats seconds as "1h02m", "3m05s" or "4.2s".
std::string format_duration(double seconds);

}  // namespace regula::core
