#include "core/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace regula::core {

std::string fmt_num(double x) {
  if (std::isnan(x)) return "-";
  if (x != 0 && (std::abs(x) < 0.00999995 || std::abs(x) >= 1e5)) return fmt::format("{:.3e}", x);
  return fmt::format("{:.4g}", x);
}

void print_table(const std::string& title, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t c = 0; c < cells.size(); ++c) s += fmt::format("{}{:<{}}", c ? "  " : "", cells[c], width[c]);
    fmt::print("{}\n", s);
  };
  fmt::print("\n{}\n", title);
  line(header);
  std::vector<std::string> rule;
  for (auto w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
  std::fflush(stdout);
}

}  // namespace regula::core
