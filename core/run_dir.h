#pragma once
/// \file The run directory `runs/<name>/<timestamp>/` with
/// `config.resolved.yaml`, `metrics.csv`, `checkpoints/` and `plots/`, and
/// the CSV writer used for metrics and result tables.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace regula::core {

/// A CSV file written row by row and flushed after each row, so a run that
/// dies keeps everything it logged.  Columns are fixed by the header.  A failed
/// write (disk full) is an Error, and the file keeps only whole rows.
class CsvWriter {
 public:
  CsvWriter() = default;
  CsvWriter(const std::filesystem::path& path, std::vector<std::string> columns);
  CsvWriter(CsvWriter&&) noexcept;
  CsvWriter& operator=(CsvWriter&&) noexcept;
  ~CsvWriter();
  /// Writes one row; missing columns are left empty, unknown ones are an error.
  void row(const std::map<std::string, double>& values);
  /// Writes one row of preformatted cells, one per column.
  void row_cells(const std::vector<std::string>& cells);
  const std::filesystem::path& path() const { return path_; }
  bool is_open() const { return file_ != nullptr; }

 private:
  void write_line(const std::string& line);
  std::filesystem::path path_;
  std::vector<std::string> columns_;
  std::FILE* file_ = nullptr;
};

/// A run's directory.  Created fresh (`create`) or reopened to resume (`open`).
class RunDir {
 public:
  /// Creates `<root>/<name>/<YYYYmmdd-HHMMSS>[-N]/` with its subfolders, recording which
  /// command's run it is (`kind`: recover, sweep, train).
  static RunDir create(const std::filesystem::path& root, const std::string& name, const std::string& kind);
  /// Opens an existing run directory of `kind` (for --resume): an Error naming the fix if it
  /// is not one, or is another command's.  Removes the temporary files a kill left behind.
  static RunDir open(const std::filesystem::path& dir, const std::string& kind);

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path checkpoints() const { return path_ / "checkpoints"; }
  std::filesystem::path plots() const { return path_ / "plots"; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }
  /// Writes `config.resolved.yaml`.
  void write_config(const std::string& resolved_yaml) const;

 private:
  explicit RunDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

/// Writes `text` to `path` atomically (temporary file, flush, fsync, rename).
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace regula::core
