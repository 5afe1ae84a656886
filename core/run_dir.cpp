#include "core/run_dir.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <set>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/distributed.h"
#include "core/errors.h"

namespace fs = std::filesystem;

namespace regula::core {

CsvWriter::CsvWriter(const fs::path& path, std::vector<std::string> columns)
    : path_(path), columns_(std::move(columns)) {
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
  file_ = std::fopen(path.c_str(), "w");
  if (!file_) throw Error(fmt::format("cannot write '{}': check that the directory is writable", path.string()));
  std::setvbuf(file_, nullptr, _IONBF, 0);  // each row goes straight to the file: nothing is left half-buffered
  try {
    write_line(fmt::format("{}\n", fmt::join(columns_, ",")));
  } catch (...) {
    std::fclose(file_);
    file_ = nullptr;
    throw;
  }
}

void CsvWriter::write_line(const std::string& line) {
  // A row is written and flushed whole, or not at all: on a failed write (disk full, I/O
  // error) the file is cut back to the rows before it and the run stops with an error.
  const long before = std::ftell(file_);
  if (std::fputs(line.c_str(), file_) < 0 || std::fflush(file_) != 0) {
    const int err = errno;
    std::clearerr(file_);
    if (before >= 0 && ::ftruncate(::fileno(file_), before) == 0) std::fseek(file_, before, SEEK_SET);
    throw Error(fmt::format("writing '{}' failed ({}): free some space or pick another --out; the rows written "
                            "before are kept", path_.string(), std::strerror(err)));
  }
}

CsvWriter::CsvWriter(CsvWriter&& other) noexcept { *this = std::move(other); }

CsvWriter& CsvWriter::operator=(CsvWriter&& other) noexcept {
  if (this != &other) {
    if (file_) std::fclose(file_);
    path_ = std::move(other.path_);
    columns_ = std::move(other.columns_);
    file_ = other.file_;
    other.file_ = nullptr;
  }
  return *this;
}

CsvWriter::~CsvWriter() {
  if (file_) std::fclose(file_);
}

void CsvWriter::row(const std::map<std::string, double>& values) {
  std::vector<std::string> cells(columns_.size());
  std::size_t used = 0;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    auto it = values.find(columns_[i]);
    if (it != values.end()) cells[i] = fmt::format("{}", it->second), ++used;
  }
  if (used != values.size()) {
    for (const auto& [k, v] : values) {
      if (std::find(columns_.begin(), columns_.end(), k) == columns_.end()) {
        throw Error(fmt::format("'{}' has no column '{}' (columns: {})", path_.string(), k, fmt::join(columns_, ", ")));
      }
    }
  }
  row_cells(cells);
}

void CsvWriter::row_cells(const std::vector<std::string>& cells) {
  if (!file_) throw Error("CsvWriter: writing to a closed file");
  if (cells.size() != columns_.size()) {
    throw Error(fmt::format("'{}': row has {} cells for {} columns", path_.string(), cells.size(), columns_.size()));
  }
  write_line(fmt::format("{}\n", fmt::join(cells, ",")));
}

namespace {

fs::path create_run_dir(const fs::path& root, const std::string& name, const std::string& kind) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  fs::path base = root / name / stamp;
  fs::path dir = base;
  for (int i = 1; fs::exists(dir); ++i) dir = fs::path(base.string() + "-" + std::to_string(i));
  std::error_code ec;
  fs::create_directories(dir / "checkpoints", ec);
  if (!ec) fs::create_directories(dir / "plots", ec);
  if (ec) throw Error(fmt::format("cannot create run directory '{}': {}", dir.string(), ec.message()));
  write_file_atomically(dir / "regula-run.txt", kind + "\n");
  return dir;
}

}  // namespace

RunDir RunDir::create(const fs::path& root, const std::string& name, const std::string& kind) {
  // A distributed run (core/distributed.h) has one directory: rank 0 creates it, every rank
  // gets its path.
  const auto& dist = distributed();
  if (!dist.active()) return RunDir(create_run_dir(root, name, kind));
  return RunDir(dist.broadcast(dist.is_main() ? create_run_dir(root, name, kind).string() : std::string()));
}

RunDir RunDir::open(const fs::path& dir, const std::string& kind) {
  const auto recorded = dir / "regula-run.txt";
  if (fs::is_regular_file(recorded)) {
    std::ifstream in(recorded);
    std::string was;
    std::getline(in, was);
    if (!was.empty() && was != kind) {
      throw Error(fmt::format("'{}' is a run of `regula {}`, not `regula {}`: continue it with `regula {} --resume {}`",
                              dir.string(), was, kind, was, dir.string()));
    }
  }
  if (!fs::is_directory(dir) || !fs::exists(dir / "config.resolved.yaml")) {
    throw Error(fs::is_regular_file(recorded)
                    ? fmt::format("'{}' was interrupted before it wrote its config: nothing to continue, start the run "
                                  "again", dir.string())
                    : fmt::format("'{}' is not a Regula run directory (no config.resolved.yaml)", dir.string()));
  }
  // Temporary files of writes a kill interrupted: the files they were to replace are intact.
  // (Rank 0 alone writes and cleans the top folders of a distributed run.)
  for (const auto& folder : {dir, dir / "checkpoints"}) {
    if (!distributed().is_main()) break;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder, ec)) {
      if (e.path().extension() == ".tmp") fs::remove(e.path(), ec);
    }
  }
  fs::create_directories(dir / "checkpoints");
  fs::create_directories(dir / "plots");
  return RunDir(dir);
}

void RunDir::write_config(const std::string& resolved_yaml) const {
  if (!distributed().is_main()) return;  // a distributed run's config has one writer, rank 0
  if (!distributed().is_main()) return;  // one writer per distributed run
  write_file_atomically(path_ / "config.resolved.yaml", resolved_yaml);
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error(fmt::format("cannot write '{}': check that the directory exists and is writable", path.string()));
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(fmt::format("writing '{}' failed ({}): free some space or pick another --out; '{}' is unchanged",
                              tmp.string(), std::strerror(err), path.string()));
    }
    p += n, left -= static_cast<std::size_t>(n);
  }
  const int synced = ::fsync(fd), sync_err = errno;
  const int closed = ::close(fd);
  if (synced != 0 || closed != 0) {
    const int err = synced != 0 ? sync_err : errno;
    ::unlink(tmp.c_str());
    throw Error(fmt::format("writing '{}' failed ({}): '{}' is unchanged", tmp.string(), std::strerror(err),
                            path.string()));
  }
  fs::rename(tmp, path);
}

}  // namespace regula::core
