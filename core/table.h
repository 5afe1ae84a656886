#pragma once
/// \file Console tables of results: aligned columns and short numbers.
#include <string>
#include <vector>

namespace regula::core {

/// Prints `title`, the header, a rule and the rows as aligned columns on stdout.
void print_table(const std::string& title, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

/// A short number for a table: 4 significant digits, scientific below 1e-3 and
/// from 1e5 on, "-" for NaN.
std::string fmt_num(double x);

}  // namespace regula::core
