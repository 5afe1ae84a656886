#pragma once
/// \file The one front end of every experiment command (`recover`, `sweep`,
/// `train`, and the demo that calls them): what to run, the root keys every
/// run config starts with, and the config side of the resume protocol.
///
///     name: recover        # the run directory is <out>/<name>/<timestamp>/
///     device: auto         # auto | cpu | cuda | cuda:N
///     threads: 1           # CPU threads (0: LibTorch's default, all cores); 1 is fastest for
///                          # the small problems of most runs, and is what runs unless told
///     dtype: float32       # float32 | float64
///     seed: 0              # the seed of a single run
///     seeds: [0, 1, 2]     # replicates / seeds of one experiment (default: [seed])
///
/// Resume: a run directory keeps its resolved config; `--resume DIR`
/// continues it with that config and the new command-line overrides, which are
/// recorded once the run's checkpoint has been accepted (a refused resumption
/// leaves the directory as it was).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/config.h"
#include "core/run_dir.h"

namespace regula::core {

/// What a command was asked to run.
struct RunRequest {
  std::string config_path;             ///< --config FILE (else the embedded defaults)
  std::vector<std::string> overrides;  ///< key=value ...
  std::string runs_root = "runs";      ///< --out DIR
  std::string resume_dir;              ///< --resume DIR
};

/// The root keys of a run config (see the file comment).
struct RunSpec {
  std::string name;
  torch::Device device{torch::kCPU};
  int64_t threads = 1;
  torch::ScalarType dtype = torch::kFloat;
  std::vector<int64_t> seeds{0};
};

/// Reads the root keys, resolves the device (logging which), and applies `threads`.
RunSpec read_run_spec(Section root, const std::string& default_name);

/// The config of a request: the file (or `embedded_defaults`, named `origin` in
/// messages; with --resume, the config.resolved.yaml of a run of `kind`), then the overrides.
Config load_run_config(const RunRequest& request, const std::string& embedded_defaults, const std::string& origin,
                       const std::string& kind);

/// A fresh run directory of `kind` with the resolved config written, or with --resume the
/// run's own directory, its config left as it was until `record_resumed_config`.
RunDir open_run_dir(const RunRequest& request, const std::string& name, const Config& config, const std::string& kind);

/// With --resume, once the checkpoint was accepted: records the config the run now
/// follows (the resumption's overrides, e.g. a larger train.steps).
void record_resumed_config(const RunRequest& request, const RunDir& dir, const Config& config);

/// Refuses, before anything is allocated, a run whose estimated memory (`bytes`) exceeds
/// what this machine has: a ConfigError "needs about X GiB ... : reduce <what_to_reduce>".
void check_fits_in_memory(double bytes, const std::string& what_to_reduce);

/// The first line where two texts of "key: value" lines differ, as
/// "'a' in the checkpoint, 'b' now" (what a resume refusal names).
std::string first_difference(const std::string& saved, const std::string& now);

/// The resume protocol's check: a resumption's resolved config (YAML) must equal the
/// run's own but for the keys in `may_change` (dotted paths, e.g. "train.steps").  A
/// CheckpointError naming `run` and the first difference otherwise.
void check_same_run(const std::string& saved_yaml, const std::string& now_yaml,
                    const std::vector<std::string>& may_change, const std::string& run);

}  // namespace regula::core
