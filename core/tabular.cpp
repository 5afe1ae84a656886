#include "core/tabular.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"

namespace fs = std::filesystem;

namespace regula::core {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\"");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\"");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) cells.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

}  // namespace

int64_t Table::column(const std::string& name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int64_t>(i);
  }
  throw DataError(fmt::format("no column '{}' (columns: {})", name, fmt::join(columns, ", ")));
}

Table read_csv(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw DataError(fmt::format("cannot open CSV file '{}': check the path", path.string()));
  Table table;
  std::vector<double> values;
  std::string line;
  std::size_t line_no = 0, width = 0, rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto cells = split_csv_line(line);
    std::vector<double> row(cells.size());
    bool numeric = true;
    for (std::size_t i = 0; i < cells.size(); ++i) numeric = numeric && parse_double(cells[i], row[i]);
    if (width == 0) {
      width = cells.size();
      if (!numeric) {
        table.columns = cells;
        continue;
      }
      for (std::size_t i = 0; i < width; ++i) table.columns.push_back(fmt::format("c{}", i));
    }
    if (cells.size() != width) {
      throw DataError(fmt::format("{}:{}: row has {} cells, expected {} like the first row", path.string(), line_no,
                                  cells.size(), width));
    }
    if (!numeric) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        double v;
        if (!parse_double(cells[i], v)) {
          throw DataError(fmt::format("{}:{}: column '{}' holds '{}', which is not a number", path.string(), line_no,
                                      table.columns[i], cells[i]));
        }
      }
    }
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) throw DataError(fmt::format("CSV file '{}' has no data rows", path.string()));
  table.values = torch::from_blob(values.data(), {static_cast<int64_t>(rows), static_cast<int64_t>(width)},
                                  torch::kDouble).clone();
  return table;
}

torch::Tensor read_npy(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("cannot open .npy file '{}': check the path", path.string()));
  auto fail = [&](const std::string& what) -> DataError {
    return DataError(fmt::format("'{}' {}", path.string(), what));
  };
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw fail("is not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) throw fail("is truncated (no header length)");
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) throw fail("is truncated (no header length)");
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) throw fail("is truncated (header)");
  auto field = [&](const std::string& key) {
    const auto at = header.find("'" + key + "'");
    if (at == std::string::npos) throw fail(fmt::format("has no '{}' in its header", key));
    return header.substr(header.find(':', at) + 1);
  };
  const std::string descr_rest = field("descr");
  const auto q1 = descr_rest.find('\'');
  const std::string descr = descr_rest.substr(q1 + 1, descr_rest.find('\'', q1 + 1) - q1 - 1);
  const bool fortran = trim(field("fortran_order")).rfind("True", 0) == 0;
  const std::string shape_rest = field("shape");
  const std::string shape_text = shape_rest.substr(shape_rest.find('(') + 1, shape_rest.find(')') - shape_rest.find('(') - 1);
  std::vector<int64_t> shape;
  std::stringstream ss(shape_text);
  std::string dim;
  while (std::getline(ss, dim, ',')) {
    if (!trim(dim).empty()) shape.push_back(std::stoll(trim(dim)));
  }
  torch::ScalarType type;
  if (descr == "<f8") type = torch::kDouble;
  else if (descr == "<f4") type = torch::kFloat;
  else if (descr == "<i8") type = torch::kLong;
  else if (descr == "<i4") type = torch::kInt;
  else if (descr == "|u1" || descr == "<u1") type = torch::kByte;
  else throw fail(fmt::format("has dtype '{}'; supported: float64, float32, int64, int32, uint8 (little-endian)", descr));
  int64_t count = 1;
  for (auto d : shape) count *= d;
  auto tensor = torch::empty({count}, torch::TensorOptions().dtype(type));
  const auto bytes = static_cast<std::streamsize>(count * tensor.element_size());
  if (!in.read(static_cast<char*>(tensor.data_ptr()), bytes)) {
    throw fail(fmt::format("is truncated: expected {} bytes of data for shape ({}), got {}", bytes,
                           fmt::join(shape, ", "), in.gcount()));
  }
  if (fortran && shape.size() > 1) {
    std::vector<int64_t> reversed(shape.rbegin(), shape.rend());
    std::vector<int64_t> perm;
    for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) perm.push_back(i);
    return tensor.reshape(reversed).permute(perm).contiguous().to(torch::kDouble);
  }
  return tensor.reshape(shape).to(torch::kDouble);
}

void write_npy(const fs::path& path, const torch::Tensor& array) {
  const auto a = array.detach().cpu().to(torch::kDouble).contiguous();
  std::string shape;
  for (auto d : a.sizes()) shape += fmt::format("{}, ", d);
  if (a.dim() > 1) shape.resize(shape.size() - 2);
  std::string header = fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}), }}", shape);
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) throw DataError(fmt::format("cannot write '{}'", path.string()));
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const char lb[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(lb, 2);
  out << header;
  out.write(static_cast<const char*>(a.data_ptr()), static_cast<std::streamsize>(a.numel() * 8));
}

torch::Tensor read_array(const fs::path& path) {
  const auto ext = path.extension().string();
  if (ext == ".npy") return read_npy(path);
  if (ext == ".csv" || ext == ".txt") return read_csv(path).values;
  throw DataError(fmt::format("'{}': unsupported extension '{}'; use .npy or .csv", path.string(), ext));
}

}  // namespace regula::core
