#include "apps/common.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/device.h"
#include "core/errors.h"
#include "core/logging.h"

namespace regula::apps {

void add_run_options(CLI::App* cmd, RunArgs& args) {
  cmd->add_option("--config,-c", args.config_path, "YAML config file (default: the embedded defaults)");
  cmd->add_option("--out", args.runs_root, "root folder of run directories")->capture_default_str();
  cmd->add_option("overrides", args.overrides, "config overrides as dotted.key=value, e.g. train.eta=1e-3");
}

void add_resume_option(CLI::App* cmd, RunArgs& args) {
  cmd->add_option("--resume", args.resume_dir,
                  "continue an interrupted run directory from its checkpoint (key=value overrides still apply, "
                  "e.g. a larger train.max_steps)");
}

core::Config load_config(const RunArgs& args, const std::string& embedded_defaults, const std::string& command) {
  if (!args.resume_dir.empty()) {
    if (!args.config_path.empty()) {
      throw ConfigError("--resume continues a run with its own config.resolved.yaml: drop --config");
    }
    const auto resolved = std::filesystem::path(args.resume_dir) / "config.resolved.yaml";
    if (!std::filesystem::exists(resolved)) {
      throw ConfigError(fmt::format("--resume '{}': not a run directory (no config.resolved.yaml); pass one that "
                                    "`regula {}` wrote, e.g. runs/{}/<timestamp>", args.resume_dir, command, command));
    }
    core::Config config = core::Config::from_file(resolved.string());
    config.apply_overrides(args.overrides);
    return config;
  }
  core::Config config = args.config_path.empty()
                            ? core::Config::from_string(embedded_defaults, "<" + command + " defaults>")
                            : core::Config::from_file(args.config_path);
  config.apply_overrides(args.overrides);
  return config;
}

torch::Device setup_device_and_seed(core::Section root) {
  const auto spec = root.get<std::string>("device", "auto");
  const auto seed = root.get<int64_t>("seed", 0);
  root.check(seed >= 0, "seed", "must be >= 0");
  const torch::Device device = core::resolve_device(spec);
  core::seed_everything(static_cast<uint64_t>(seed));
  core::log_info("device: {} (device={}), seed {}", core::describe_device(device), spec, seed);
  return device;
}

core::RunDir create_run_dir(const RunArgs& args, const std::string& name, const core::Config& config) {
  if (!args.resume_dir.empty()) {
    // The run's config stays as it was until record_resumed_config: a refused resumption
    // (other data, max_steps below the checkpoint) must not rewrite it.
    core::RunDir dir = core::RunDir::open(args.resume_dir);
    core::log_info("resuming run directory: {}", dir.path().string());
    return dir;
  }
  core::RunDir dir = core::RunDir::create(args.runs_root, name);
  dir.write_config(config.resolved_yaml());
  core::log_info("run directory: {}", dir.path().string());
  return dir;
}

void record_resumed_config(const RunArgs& args, const core::RunDir& dir, const core::Config& config) {
  if (!args.resume_dir.empty()) dir.write_config(config.resolved_yaml());
}

}  // namespace regula::apps
