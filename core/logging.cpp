#include "core/logging.h"

#include <atomic>
#include <cstdio>
#include <unistd.h>

namespace regula::core {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }

void detail::emit(LogLevel, const char* tag, const std::string& text) {
  std::fputs(tag, stderr);
  std::fputs(text.c_str(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

std::string format_duration(double s) {
  if (!(s >= 0)) return "?";
  if (s < 60) return fmt::format("{:.1f}s", s);
  const auto total = static_cast<int64_t>(s + 0.5);
  if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, total % 60);
  return fmt::format("{}h{:02d}m", total / 3600, (total % 3600) / 60);
}

Progress::Progress(std::string label, int64_t total, double line_every_s)
    : label_(std::move(label)),
      total_(total),
      line_every_s_(line_every_s),
      tty_(isatty(fileno(stderr)) != 0),
      enabled_(log_level() >= LogLevel::kInfo && total > 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && tty_ && enabled_) std::fputc('\n', stderr);
}

void Progress::update(int64_t done, const std::string& status) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since < (tty_ ? 0.1 : line_every_s_) && done != 0) return;
  last_draw_ = now;
  draw(done, status, false);
}

void Progress::finish(const std::string& status, int64_t done) {
  if (!enabled_ || finished_) return;
  draw(done < 0 ? total_ : std::min(done, total_), status, true);
  finished_ = true;
}

void Progress::draw(int64_t done, const std::string& status, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const std::string timing = final ? fmt::format("{} total, {:.0f} it/s", format_duration(elapsed), rate)
                                   : fmt::format("{:.0f} it/s, ETA {}", rate, format_duration(eta));
  if (tty_) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %lld/%lld %s %s%s", label_.c_str(), bar.c_str(), 100 * frac,
                 static_cast<long long>(done), static_cast<long long>(total_), timing.c_str(), status.c_str(),
                 final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s: %lld/%lld (%3.0f%%) %s %s\n", label_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), 100 * frac, timing.c_str(), status.c_str());
  }
  std::fflush(stderr);
}

}  // namespace regula::core
