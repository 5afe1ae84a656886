#pragma once
/// \file What `regula recover` and `regula sweep` share: reading the data,
/// model and window sections of a config, and printing summary tables.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "apps/common.h"
#include "core/config.h"
#include "core/run_dir.h"
#include "core/sparse_data.h"
#include "trainers/batched_gd.h"

namespace regula::apps {

/// The `data` section: where problems come from.
struct SparseDataSpec {
  std::string source = "synthetic";  ///< synthetic | files | digit | mnist
  int64_t d = 200, k = 5;
  std::vector<double> support_values{1.0};
  double sigma = 0.5;
  std::string design = "rademacher";
  double val_ratio = 0.25;     ///< validation measurements per training measurement (generated data)
  double val_fraction = 0.2;   ///< rows held out for validation (files)
  std::string x, y, w_star;    ///< files
  std::string mnist_dir;       ///< mnist
  int64_t mnist_index = 0;
  /// Builds one problem with n training measurements and the given seed.
  core::SparseProblem make(int64_t n, uint64_t seed) const;
};

/// Reads `data` (without `n`, which recover and sweep read differently).
SparseDataSpec read_data_spec(core::Section data);

/// Reads a key holding a number or a list of numbers.
std::vector<double> read_numbers(core::Section s, const std::string& key, const std::vector<double>& fallback);

/// The `model` section and the shared keys of `train`: depths, w0 (or alpha;
/// one value, or a list when `scale_list`), positive, eta (one or a list),
/// max_steps, log_every, divergence_factor, checkpoint_every.
struct SparseGrid {
  std::vector<int64_t> depths;
  std::vector<double> w0;      ///< one per scale (alpha = w0^{1/N}), or alphas when given as alpha
  bool w0_given_as_alpha = false;
  bool positive = false;
  std::vector<double> eta;     ///< per depth (recover) or a grid axis (sweep)
  int64_t max_steps = 3000, log_every = 10;
  double divergence_factor = 1e6;
  int64_t checkpoint_every = 1000;  ///< steps between checkpoints of the batched run (0: none)
  double alpha(std::size_t scale, int64_t depth) const;
  /// Options of the batched engine for this grid, checkpointing into `dir`; with --resume,
  /// continuing from its checkpoint and recording `config` once that was accepted.
  trainers::BatchedGDOptions batched_options(const RunArgs& args, const core::RunDir& dir,
                                             const core::Config& config) const;
  double w0_of(std::size_t scale, int64_t depth) const;
};
SparseGrid read_grid(core::Section root, bool scale_list);

/// The root keys every sparse command reads: name, device, seed, dtype, data.
struct SparseRunSpec {
  std::string name;
  torch::Device device = torch::kCPU;
  uint64_t seed = 0;
  torch::ScalarType dtype = torch::kFloat;
  SparseDataSpec data;
};
SparseRunSpec read_run_spec(core::Section root, const std::string& default_name);

/// Window thresholds of the `windows` section.
struct WindowSpec {
  double coord_tol = 0.1;
  double off_threshold = -1;  ///< <= 0: w0^{1/4}
  double error_factor = 1.4142135623730951;
  double threshold(double w0) const;
};
WindowSpec read_window_spec(core::Section s);

/// "torch dtype" from the root key `dtype` (float32 | float64).
torch::ScalarType read_dtype(core::Section root);

/// Prints an aligned table on stdout.
void print_table(const std::string& title, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

/// Short number formatting for tables ("-" for NaN).
std::string fmt_num(double x);
/// "[start, end]" or "-" for an empty window ("+" marks a censored end).
std::string fmt_window(int64_t start, int64_t end, bool censored);

/// `regula recover` with the given embedded defaults (also used by the demo).
void run_recover(const RunArgs& args, const std::string& embedded_defaults, const std::string& command);
/// `regula sweep` with the given embedded defaults.
void run_sweep(const RunArgs& args, const std::string& embedded_defaults, const std::string& command);

}  // namespace regula::apps
