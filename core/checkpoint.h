#pragma once
/// \file Versioned, atomic checkpoints: one file holds named modules,
/// optimizers, tensors, scalars and every RNG state.  Writing goes to a
/// temporary file that is renamed into place, so a crash never leaves a
/// broken checkpoint; reading rejects truncated or foreign files with a
/// CheckpointError instead of crashing.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <torch/types.h>

namespace torch::nn { class Module; }
namespace torch::optim { class Optimizer; }
namespace torch::serialize { class OutputArchive; class InputArchive; }

namespace regula::core {

/// Format version written into every checkpoint.
inline constexpr int64_t kCheckpointVersion = 1;

/// Collects the items of a checkpoint, then `commit()`s them atomically.
class CheckpointWriter {
 public:
  CheckpointWriter();
  ~CheckpointWriter();
  CheckpointWriter& module(const std::string& name, const torch::nn::Module& m);
  CheckpointWriter& optimizer(const std::string& name, const torch::optim::Optimizer& opt);
  CheckpointWriter& tensor(const std::string& name, const torch::Tensor& t);
  CheckpointWriter& integer(const std::string& name, int64_t value);
  CheckpointWriter& real(const std::string& name, double value);
  CheckpointWriter& text(const std::string& name, const std::string& value);
  /// Saves the state of the CPU generator and of every CUDA generator.
  CheckpointWriter& rng_state();
  /// Writes the file atomically (temporary file, fsync, rename).
  void commit(const std::filesystem::path& path);

 private:
  std::unique_ptr<torch::serialize::OutputArchive> archive_;
};

/// Opens and validates a checkpoint; reads items by name.
class CheckpointReader {
 public:
  explicit CheckpointReader(const std::filesystem::path& path);
  ~CheckpointReader();
  bool has(const std::string& name) const;
  void module(const std::string& name, torch::nn::Module& m);
  void optimizer(const std::string& name, torch::optim::Optimizer& opt);
  torch::Tensor tensor(const std::string& name);
  int64_t integer(const std::string& name);
  double real(const std::string& name);
  std::string text(const std::string& name);
  /// Restores the generator states saved by `CheckpointWriter::rng_state()`.
  void restore_rng_state();

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::filesystem::path path_;
  std::unique_ptr<torch::serialize::InputArchive> archive_;
};

/// The newest `step_*.pt` in a checkpoint folder, or empty if none.
std::filesystem::path latest_checkpoint(const std::filesystem::path& dir);

}  // namespace regula::core
