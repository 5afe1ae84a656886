#include "core/checkpoint.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include <ATen/Context.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include "core/errors.h"
#include "core/run_dir.h"

namespace fs = std::filesystem;

namespace regula::core {
namespace {
constexpr const char* kMagicKey = "regula.format";
constexpr const char* kMagic = "regula-checkpoint";
constexpr const char* kVersionKey = "regula.version";

// Reads `a.b.weight` from nested archives (Module::save nests submodules).
bool read_nested(torch::serialize::InputArchive& archive, const std::vector<std::string>& parts, std::size_t i,
                 torch::Tensor& out, bool is_buffer) {
  if (i + 1 == parts.size()) return archive.try_read(parts[i], out, is_buffer);
  torch::serialize::InputArchive child;
  if (!archive.try_read(parts[i], child)) return false;
  return read_nested(child, parts, i + 1, out, is_buffer);
}

// The file is the archive followed by a fixed-length trailer holding a checksum of the
// archive's bytes (LibTorch's zip reader does not check its CRCs): a bit flipped after
// writing, or a file cut short, is refused before anything is read from it.
constexpr const char* kTrailerPrefix = "\nregula-checksum fnv1a64 ";
constexpr std::size_t kTrailerSize = 25 + 16 + 1;  // prefix, 16 hex digits, newline

uint64_t fnv1a64(const char* data, std::size_t size) {
  uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
  return h;
}

std::string trailer(const std::string& archive) {
  return fmt::format("{}{:016x}\n", kTrailerPrefix, fnv1a64(archive.data(), archive.size()));
}

std::vector<std::string> split_dots(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0, dot;
  while ((dot = name.find('.', start)) != std::string::npos) parts.push_back(name.substr(start, dot - start)), start = dot + 1;
  parts.push_back(name.substr(start));
  return parts;
}
}  // namespace

CheckpointWriter::CheckpointWriter() : archive_(std::make_unique<torch::serialize::OutputArchive>()) {
  archive_->write(kMagicKey, c10::IValue(std::string(kMagic)));
  archive_->write(kVersionKey, c10::IValue(kCheckpointVersion));
}
CheckpointWriter::~CheckpointWriter() = default;

CheckpointWriter& CheckpointWriter::module(const std::string& name, const torch::nn::Module& m) {
  torch::serialize::OutputArchive sub;
  m.save(sub);
  archive_->write("module." + name, sub);
  return *this;
}

CheckpointWriter& CheckpointWriter::optimizer(const std::string& name, const torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive sub;
  opt.save(sub);
  archive_->write("optimizer." + name, sub);
  return *this;
}

CheckpointWriter& CheckpointWriter::tensor(const std::string& name, const torch::Tensor& t) {
  archive_->write("tensor." + name, t.detach().cpu(), /*is_buffer=*/true);
  return *this;
}

CheckpointWriter& CheckpointWriter::integer(const std::string& name, int64_t value) {
  archive_->write("int." + name, c10::IValue(value));
  return *this;
}

CheckpointWriter& CheckpointWriter::real(const std::string& name, double value) {
  archive_->write("real." + name, c10::IValue(value));
  return *this;
}

CheckpointWriter& CheckpointWriter::text(const std::string& name, const std::string& value) {
  archive_->write("text." + name, c10::IValue(value));
  return *this;
}

CheckpointWriter& CheckpointWriter::rng_state() {
  tensor("rng.cpu", at::globalContext().defaultGenerator(at::kCPU).get_state());
  const auto n = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  integer("rng.cuda_count", n);
  for (int64_t i = 0; i < n; ++i) {
    auto& gen = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(i)));
    tensor(fmt::format("rng.cuda{}", i), gen.get_state());
  }
  return *this;
}

void CheckpointWriter::commit(const fs::path& path) {
  std::ostringstream bytes;
  archive_->save_to(bytes);
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
  const auto archive = bytes.str();
  write_file_atomically(path, archive + trailer(archive));
}

// ---------------------------------------------------------------------------

CheckpointReader::CheckpointReader(const fs::path& path)
    : path_(path), archive_(std::make_unique<torch::serialize::InputArchive>()) {
  if (!fs::exists(path)) {
    throw CheckpointError(fmt::format("checkpoint '{}' does not exist", path.string()));
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    if (!in.good() && !in.eof()) fail("could not be read");
  }
  static_assert(sizeof("\nregula-checksum fnv1a64 ") - 1 == 25, "trailer prefix length");
  if (bytes.size() < kTrailerSize || bytes.compare(bytes.size() - kTrailerSize, 25, kTrailerPrefix) != 0) {
    fail("is truncated or not a Regula checkpoint (it lacks the checksum trailer): resume from an older checkpoint "
         "or start a new run");
  }
  const std::string archive = bytes.substr(0, bytes.size() - kTrailerSize);
  if (bytes.compare(archive.size(), kTrailerSize, trailer(archive)) != 0) {
    fail("is corrupt (its checksum does not match its contents: the file changed after it was written): resume from "
         "an older checkpoint or start a new run");
  }
  try {
    std::istringstream in(archive);
    archive_->load_from(in);
  } catch (const std::exception&) {
    fail("is truncated or not a checkpoint file (it could not be read as an archive)");
  }
  c10::IValue magic, version;
  if (!archive_->try_read(kMagicKey, magic) || !magic.isString() || magic.toStringRef() != kMagic) {
    fail("is not a Regula checkpoint (it lacks the regula.format marker)");
  }
  if (!archive_->try_read(kVersionKey, version) || !version.isInt() || version.toInt() != kCheckpointVersion) {
    fail(fmt::format("has format version {}, this build reads version {}",
                     version.isInt() ? std::to_string(version.toInt()) : "?", kCheckpointVersion));
  }
}
CheckpointReader::~CheckpointReader() = default;

void CheckpointReader::fail(const std::string& what) const {
  throw CheckpointError(fmt::format("checkpoint '{}' {}; delete it or point to another checkpoint", path_.string(), what));
}

bool CheckpointReader::has(const std::string& name) const {
  const auto keys = archive_->keys();
  for (const auto& prefix : {"module.", "optimizer.", "tensor.", "int.", "real.", "text."}) {
    if (std::find(keys.begin(), keys.end(), prefix + name) != keys.end()) return true;
  }
  return false;
}

void CheckpointReader::module(const std::string& name, torch::nn::Module& m) {
  torch::serialize::InputArchive sub;
  if (!archive_->try_read("module." + name, sub)) fail(fmt::format("has no module '{}'", name));
  // Not Module::load: it set_()s whatever shape the file holds.  Check each
  // tensor's shape, then copy into place (keeping the tensors an optimizer holds).
  torch::NoGradGuard no_grad;
  auto load = [&](const std::string& key, torch::Tensor& target, bool is_buffer) {
    torch::Tensor saved;
    if (!read_nested(sub, split_dots(key), 0, saved, is_buffer)) {
      fail(fmt::format("has no '{}' for module '{}' (different architecture?)", key, name));
    }
    if (!saved.sizes().equals(target.sizes())) {
      fail(fmt::format("holds '{}' of shape [{}] but module '{}' has shape [{}] (different architecture?)", key,
                       fmt::join(saved.sizes(), ", "), name, fmt::join(target.sizes(), ", ")));
    }
    target.copy_(saved);
  };
  for (auto& item : m.named_parameters(/*recurse=*/true)) load(item.key(), item.value(), false);
  for (auto& item : m.named_buffers(/*recurse=*/true)) load(item.key(), item.value(), true);
}

void CheckpointReader::optimizer(const std::string& name, torch::optim::Optimizer& opt) {
  torch::serialize::InputArchive sub;
  if (!archive_->try_read("optimizer." + name, sub)) fail(fmt::format("has no optimizer '{}'", name));
  try {
    opt.load(sub);
  } catch (const std::exception& e) {
    fail(fmt::format("does not fit optimizer '{}': {}", name, std::string(e.what()).substr(0, 200)));
  }
}

torch::Tensor CheckpointReader::tensor(const std::string& name) {
  torch::Tensor t;
  if (!archive_->try_read("tensor." + name, t, /*is_buffer=*/true)) fail(fmt::format("has no tensor '{}'", name));
  return t;
}

int64_t CheckpointReader::integer(const std::string& name) {
  c10::IValue v;
  if (!archive_->try_read("int." + name, v) || !v.isInt()) fail(fmt::format("has no integer '{}'", name));
  return v.toInt();
}

double CheckpointReader::real(const std::string& name) {
  c10::IValue v;
  if (!archive_->try_read("real." + name, v) || !v.isDouble()) fail(fmt::format("has no number '{}'", name));
  return v.toDouble();
}

std::string CheckpointReader::text(const std::string& name) {
  c10::IValue v;
  if (!archive_->try_read("text." + name, v) || !v.isString()) fail(fmt::format("has no text '{}'", name));
  return v.toStringRef();
}

void CheckpointReader::restore_rng_state() {
  at::Generator cpu = at::globalContext().defaultGenerator(at::kCPU);  // a handle to the shared generator
  cpu.set_state(tensor("rng.cpu"));
  const int64_t saved = integer("rng.cuda_count");
  const auto have = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  for (int64_t i = 0; i < std::min(saved, have); ++i) {
    at::Generator gen = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(i)));
    gen.set_state(tensor(fmt::format("rng.cuda{}", i)));
  }
}

fs::path latest_checkpoint(const fs::path& dir) {
  fs::path best;
  long long best_step = -1;
  if (!fs::is_directory(dir)) return best;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("step_", 0) != 0 || entry.path().extension() != ".pt") continue;
    try {
      const long long step = std::stoll(name.substr(5));
      if (step > best_step) best_step = step, best = entry.path();
    } catch (const std::exception&) {
    }
  }
  return best;
}

}  // namespace regula::core
