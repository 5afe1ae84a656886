#pragma once
/// \file Reading users' numeric data: CSV files and NumPy `.npy` arrays.
/// Every problem (ragged row, non-numeric cell, truncated file, unsupported
/// dtype) is a DataError naming the file, the place and the fix.
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

namespace regula::core {

/// A numeric table: column names (from the header, or "c0", "c1", ...) and
/// values as a float64 tensor of shape [rows, columns].
struct Table {
  std::vector<std::string> columns;
  torch::Tensor values;
  /// Index of a column by name, or a DataError listing the columns.
  int64_t column(const std::string& name) const;
};

/// Reads a comma-separated numeric file.  A first line with any non-numeric
/// cell is taken as the header; its names must be distinct.  Blank lines and
/// a leading UTF-8 byte-order mark are skipped.  A non-finite cell ("inf",
/// "nan", "1e999") or a file without data rows is a DataError.
/// `finite_only` (users' data): inf and nan cells are DataErrors; false reads tables Regula
/// wrote itself, where nan marks a value a run does not have.
Table read_csv(const std::filesystem::path& path, bool finite_only = true);

/// Reads a `.npy` array (format version 1 to 3; float32/64, int32/64, uint8;
/// little-endian, C or Fortran order) as a float64 tensor of the stored shape.
/// The header (its length, dtype and shape) is checked against the file size
/// before anything is allocated: a foreign, corrupt or truncated file is a
/// DataError, never an allocation failure.
torch::Tensor read_npy(const std::filesystem::path& path);

/// Writes a float64 `.npy` file (C order), e.g. for tests and exports.
void write_npy(const std::filesystem::path& path, const torch::Tensor& array);

/// Reads a matrix or vector by extension: `.npy` or `.csv`.
torch::Tensor read_array(const std::filesystem::path& path);

}  // namespace regula::core
