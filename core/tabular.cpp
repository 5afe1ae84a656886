#include "core/tabular.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"
#include "core/run_dir.h"

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

// The .npy dtypes read_npy accepts: header descr, LibTorch type, size, name.
struct NpyType {
  const char* descr;
  torch::ScalarType type;
  int64_t size;
  const char* name;
};
const NpyType kNpyTypes[] = {{"<f8", torch::kDouble, 8, "float64"}, {"<f4", torch::kFloat, 4, "float32"},
                             {"<i8", torch::kLong, 8, "int64"},     {"<i4", torch::kInt, 4, "int32"},
                             {"|u1", torch::kByte, 1, "uint8"},     {"<u1", torch::kByte, 1, "uint8"}};

}  // namespace

int64_t Table::column(const std::string& name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int64_t>(i);
  }
  throw DataError(fmt::format("no column '{}' (columns: {})", name, fmt::join(columns, ", ")));
}

Table read_csv(const fs::path& path, bool finite_only) {
  std::ifstream in(path);
  if (!in) throw DataError(fmt::format("cannot open CSV file '{}': check the path", path.string()));
  Table table;
  std::vector<double> values;
  std::string line;
  std::size_t line_no = 0, width = 0, rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte-order mark
    if (trim(line).empty()) continue;
    const auto cells = split_csv_line(line);
    std::vector<double> row(cells.size());
    std::size_t bad = 0;  // the first cell that is not a number, or cells.size()
    while (bad < cells.size() && parse_double(cells[bad], row[bad])) ++bad;
    const bool numeric = bad == cells.size();
    if (width == 0) {
      width = cells.size();
      if (!numeric) {
        for (std::size_t i = 0; i < width; ++i) {
          for (std::size_t j = 0; j < i; ++j) {
            if (cells[j] == cells[i]) {
              throw DataError(fmt::format("{}:{}: the header names column '{}' twice (columns {} and {}); rename one",
                                          path.string(), line_no, cells[i], j + 1, i + 1));
            }
          }
        }
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
      throw DataError(fmt::format("{}:{}: column '{}' holds '{}', which is not a number", path.string(), line_no,
                                  table.columns[bad], cells[bad]));
    }
    for (std::size_t i = 0; i < cells.size() && finite_only; ++i) {
      if (!std::isfinite(row[i])) {
        throw DataError(fmt::format("{}:{}: column '{}' holds '{}', a non-finite value; use finite numbers only",
                                    path.string(), line_no, table.columns[i], cells[i]));
      }
    }
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) {
    throw DataError(fmt::format("CSV file '{}' has no data rows ({}): add rows of numbers", path.string(),
                                width == 0 ? "it is empty" : "it holds only a header line"));
  }
  table.values = torch::from_blob(values.data(), {static_cast<int64_t>(rows), static_cast<int64_t>(width)},
                                  torch::kDouble).clone();
  return table;
}

torch::Tensor read_npy(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const auto file_size = fs::file_size(path, ec);
  if (!in || ec) throw DataError(fmt::format("cannot open .npy file '{}': check the path", path.string()));
  auto fail = [&](const std::string& what) -> DataError {
    return DataError(fmt::format("'{}' {}", path.string(), what));
  };
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw fail("is not a .npy file (bad magic bytes): save arrays with numpy.save");
  }
  const int major = static_cast<unsigned char>(magic[6]);
  if (major < 1 || major > 3) {
    throw fail(fmt::format("has .npy format version {}, but only versions 1 to 3 are supported: re-save it with "
                           "numpy.save or check that it is an .npy file",
                           major));
  }
  // Everything the header declares is checked against the file size before anything is allocated.
  const uint64_t prefix = major == 1 ? 10 : 12;
  unsigned char b[4] = {0, 0, 0, 0};
  if (!in.read(reinterpret_cast<char*>(b), static_cast<std::streamsize>(prefix - 8))) {
    throw fail("is truncated (no header length): the file is incomplete or not an .npy file");
  }
  const uint64_t header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  if (prefix + header_len > file_size) {
    throw fail(fmt::format("declares a {}-byte header but the file holds only {} bytes: the file is truncated or "
                           "not an .npy file",
                           header_len, file_size));
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_len))) throw fail("is truncated (header)");
  const int64_t available = static_cast<int64_t>(file_size - prefix - header_len);

  const NpyType* npy_type = nullptr;
  bool fortran = false;
  std::string shape_text;
  std::vector<int64_t> shape;
  try {
    auto field = [&](const std::string& key) {
      const auto at = header.find("'" + key + "'");
      const auto colon = at == std::string::npos ? at : header.find(':', at);
      if (colon == std::string::npos) throw fail(fmt::format("has no '{}' in its header: it is not an .npy file", key));
      return header.substr(colon + 1);
    };
    const std::string descr_rest = field("descr");
    auto q1 = descr_rest.find_first_not_of(' ');
    if (q1 != std::string::npos && descr_rest[q1] != '\'') q1 = std::string::npos;
    const auto q2 = q1 == std::string::npos ? q1 : descr_rest.find('\'', q1 + 1);
    if (q2 == std::string::npos) throw fail("has a malformed 'descr' in its header: it is not an .npy file");
    const std::string descr = descr_rest.substr(q1 + 1, q2 - q1 - 1);
    for (const auto& t : kNpyTypes) {
      if (descr == t.descr) npy_type = &t;
    }
    if (!npy_type) {
      throw fail(fmt::format("has dtype '{}'; supported: float64, float32, int64, int32, uint8 (little-endian): "
                             "re-save it with e.g. array.astype('<f8')",
                             descr));
    }
    fortran = trim(field("fortran_order")).rfind("True", 0) == 0;
    const std::string shape_rest = field("shape");
    const auto open = shape_rest.find('(');
    const auto close = shape_rest.find(')');
    if (open == std::string::npos || close == std::string::npos || close < open) {
      throw fail("has a malformed 'shape' in its header: it is not an .npy file");
    }
    shape_text = "(" + shape_rest.substr(open + 1, close - open - 1) + ")";
    std::stringstream ss(shape_rest.substr(open + 1, close - open - 1));
    std::string dim;
    while (std::getline(ss, dim, ',')) {
      dim = trim(dim);
      if (dim.empty()) continue;
      int64_t d = 0;
      const auto [ptr, err] = std::from_chars(dim.data(), dim.data() + dim.size(), d);
      if (err == std::errc::result_out_of_range) {
        throw fail(fmt::format("declares shape {} whose element count overflows int64: the file is corrupt or not "
                               "an .npy file",
                               shape_text));
      }
      if (err != std::errc() || ptr != dim.data() + dim.size()) {
        throw fail(fmt::format("declares shape {} with non-integer dimension '{}': the file is corrupt or not an "
                               ".npy file",
                               shape_text, dim));
      }
      if (d < 0) {
        throw fail(fmt::format("declares shape {} with negative dimension {}: the file is corrupt or not an .npy "
                               "file",
                               shape_text, d));
      }
      shape.push_back(d);
    }
  } catch (const DataError&) {
    throw;
  } catch (const std::exception&) {
    throw fail(fmt::format("has a malformed header \"{}\": the file is corrupt or not an .npy file", trim(header)));
  }
  int64_t count = 1, bytes = 0;
  for (auto d : shape) {
    if (__builtin_mul_overflow(count, d, &count)) {
      throw fail(fmt::format("declares shape {} whose element count overflows int64: the file is corrupt or not an "
                             ".npy file",
                             shape_text));
    }
  }
  if (__builtin_mul_overflow(count, npy_type->size, &bytes)) {
    throw fail(fmt::format("declares shape {} whose size in bytes overflows int64: the file is corrupt or not an "
                           ".npy file",
                           shape_text));
  }
  if (bytes > available) {
    throw fail(fmt::format("declares shape {} = {} bytes of {} but the file holds {} bytes after its header: the "
                           "file is truncated or not an .npy file",
                           shape_text, bytes, npy_type->name, available));
  }
  auto tensor = torch::empty({count}, torch::TensorOptions().dtype(npy_type->type));
  if (!in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(bytes))) {
    throw fail(fmt::format("is truncated: expected {} bytes of data for shape {}, got {}", bytes, shape_text,
                           in.gcount()));
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
  std::string bytes("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  bytes += static_cast<char>(len & 0xff);
  bytes += static_cast<char>(len >> 8);
  bytes += header;
  bytes.append(static_cast<const char*>(a.data_ptr()), static_cast<std::size_t>(a.numel() * 8));
  write_file_atomically(path, bytes);  // whole or not at all; a failed write is an Error
}

torch::Tensor read_array(const fs::path& path) {
  const auto ext = path.extension().string();
  if (ext == ".npy") return read_npy(path);
  if (ext == ".csv" || ext == ".txt") return read_csv(path).values;
  throw DataError(fmt::format("'{}': unsupported extension '{}'; use .npy or .csv", path.string(), ext));
}

}  // namespace regula::core
