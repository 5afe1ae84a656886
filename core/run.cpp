#include "core/run.h"

#include <filesystem>
#include <sstream>

#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/device.h"
#include "core/distributed.h"
#include "core/errors.h"
#include "core/logging.h"

namespace regula::core {

RunSpec read_run_spec(Section root, const std::string& default_name) {
  RunSpec s;
  s.name = root.get<std::string>("name", default_name);
  root.check(!s.name.empty() && s.name.find('/') == std::string::npos && s.name != "." && s.name != "..", "name",
             "a non-empty name without '/'");
  const auto device = root.get<std::string>("device", "auto");
  s.threads = root.get<int64_t>("threads", s.threads);
  root.check(s.threads >= 0, "threads", "CPU threads: 0 = LibTorch's default, or a count >= 1");
  const auto dtype = root.get<std::string>("dtype", "float32");
  root.check_choice("dtype", dtype, {"float32", "float64"});
  s.dtype = dtype == "float64" ? torch::kDouble : torch::kFloat;
  const auto seed = root.get<int64_t>("seed", 0);
  root.check(seed >= 0, "seed", "must be >= 0");
  s.seeds = root.get<std::vector<int64_t>>("seeds", {seed});
  root.check(!s.seeds.empty(), "seeds", "a non-empty list of seeds, e.g. [0, 1, 2]");
  for (auto v : s.seeds) root.check(v >= 0, "seeds", "seeds must be >= 0");
  s.device = resolve_device(device);
  // A distributed run on GPUs: each rank of a node takes its own (LOCAL_RANK), unless told one.
  if (const auto& dist = distributed(); dist.active() && s.device.is_cuda() && (device == "auto" || device == "cuda")) {
    s.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist.local_rank() % torch::cuda::device_count()));
  }
  if (s.threads > 0) at::set_num_threads(static_cast<int>(s.threads));

  return s;
}

Config load_run_config(const RunRequest& request, const std::string& embedded_defaults, const std::string& origin,
                       const std::string& kind) {
  if (!request.resume_dir.empty()) {
    if (!request.config_path.empty()) {
      throw ConfigError("--resume continues a run with its own config.resolved.yaml: drop --config");
    }
    const auto dir = RunDir::open(request.resume_dir, kind);  // another command's run, or none: one clear line
    Config config = Config::from_file(dir.file("config.resolved.yaml").string());
    config.apply_overrides(request.overrides);
    return config;
  }
  Config config = request.config_path.empty() ? Config::from_string(embedded_defaults, "<" + origin + " defaults>")
                                              : Config::from_file(request.config_path);
  config.apply_overrides(request.overrides);
  return config;
}

RunDir open_run_dir(const RunRequest& request, const std::string& name, const Config& config, const std::string& kind) {
  if (!request.resume_dir.empty()) {
    RunDir dir = RunDir::open(request.resume_dir, kind);
    log_info("resuming run directory: {}", dir.path().string());
    return dir;
  }
  RunDir dir = RunDir::create(request.runs_root, name, kind);
  dir.write_config(config.resolved_yaml());
  log_info("run directory: {}", dir.path().string());
  return dir;
}

void record_resumed_config(const RunRequest& request, const RunDir& dir, const Config& config) {
  if (!request.resume_dir.empty()) dir.write_config(config.resolved_yaml());
}

void check_fits_in_memory(double bytes, const std::string& what_to_reduce) {
  const double total = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  if (total > 0 && bytes > 0.8 * total) {
    throw ConfigError(fmt::format("this run needs about {:.3g} GiB of memory but the machine has {:.3g} GiB: reduce {}",
                                  bytes / double(1 << 30), total / double(1 << 30), what_to_reduce));
  }
}

std::string first_difference(const std::string& saved, const std::string& now) {
  std::stringstream a(saved), b(now);
  for (std::string x, y;;) {
    const bool more_a = static_cast<bool>(std::getline(a, x)), more_b = static_cast<bool>(std::getline(b, y));
    if (!more_a && !more_b) return "no difference found";
    if (!more_a) x.clear();
    if (!more_b) y.clear();
    if (x != y) return fmt::format("'{}' in the checkpoint, '{}' now", x, y);
  }
}

namespace {

// The config as one "dotted.key: value" line per leaf, without the keys that may change.
std::string flat_lines(const std::string& yaml, const std::vector<std::string>& skip) {
  std::string out;
  std::vector<std::pair<std::string, YAML::Node>> stack{{"", YAML::Load(yaml)}};
  while (!stack.empty()) {
    auto [prefix, node] = stack.back();
    stack.pop_back();
    if (node.IsMap()) {
      std::vector<std::pair<std::string, YAML::Node>> children;
      for (const auto& kv : node) children.emplace_back((prefix.empty() ? "" : prefix + ".") + kv.first.as<std::string>(), kv.second);
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
      continue;
    }
    if (std::find(skip.begin(), skip.end(), prefix) != skip.end()) continue;
    YAML::Emitter e;
    e.SetSeqFormat(YAML::Flow);
    e.SetMapFormat(YAML::Flow);
    e << node;
    out += fmt::format("{}: {}\n", prefix, e.c_str());
  }
  return out;
}

}  // namespace

void check_same_run(const std::string& saved_yaml, const std::string& now_yaml,
                    const std::vector<std::string>& may_change, const std::string& run) {
  const auto a = flat_lines(saved_yaml, may_change), b = flat_lines(now_yaml, may_change);
  if (a == b) return;
  throw CheckpointError(fmt::format("'{}' belongs to a different run ({}): resume with the run's own config (only {} "
                                    "may change), or start a new run",
                                    run, first_difference(a, b), fmt::join(may_change, ", ")));
}

}  // namespace regula::core
