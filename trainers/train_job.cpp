#include "trainers/train_job.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <torch/nn/module.h>

#include "core/checkpoint.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/run_dir.h"
#include "models/registry.h"
#include "regularizers/derivatives.h"
#include "regularizers/regularizer.h"

namespace fs = std::filesystem;

namespace regula::trainers {
namespace {

LossOptions read_loss(core::Section s) {
  LossOptions o;
  o.kind(s.get<std::string>("kind", o.kind()));
  s.check_choice("kind", o.kind(), loss_kinds());
  if (o.kind() == "trimmed") {
    o.keep(s.get<double>("keep", o.keep()));
    s.check(o.keep() > 0 && o.keep() <= 1, "keep", "the kept fraction h/n must be in (0, 1], e.g. 0.9");
  }
  return o;
}

OptimizerOptions read_optimizer(core::Section s) {
  OptimizerOptions o;
  o.kind(s.get<std::string>("kind", o.kind()));
  s.check_choice("kind", o.kind(), optimizer_kinds());
  o.lr(s.get<double>("lr", o.lr()));
  s.check(o.lr() > 0, "lr", "must be > 0");
  if (o.kind() == "sgd") {
    o.momentum(s.get<double>("momentum", o.momentum())).nesterov(s.get<bool>("nesterov", o.nesterov()));
  } else {
    o.beta1(s.get<double>("beta1", o.beta1())).beta2(s.get<double>("beta2", o.beta2())).eps(s.get<double>("eps", o.eps()));
  }
  return o;
}

ScheduleOptions read_schedule(core::Section s) {
  ScheduleOptions o;
  o.kind(s.get<std::string>("kind", o.kind()));
  s.check_choice("kind", o.kind(), schedule_kinds());
  if (o.kind() == "step") o.step_size(s.get<int64_t>("step_size", o.step_size())).gamma(s.get<double>("gamma", o.gamma()));
  if (o.kind() == "cosine") o.min_lr(s.get<double>("min_lr", o.min_lr()));
  o.warmup(s.get<int64_t>("warmup", o.warmup()));
  return o;
}

std::optional<EarlyStoppingOptions> read_early_stopping(core::Section s) {
  if (!s.get<bool>("enabled", false)) return std::nullopt;
  EarlyStoppingOptions o;
  o.monitor(s.get<std::string>("monitor", o.monitor())).mode(s.get<std::string>("mode", o.mode()));
  s.check_choice("mode", o.mode(), {"min", "max"});
  o.patience(s.get<int64_t>("patience", o.patience())).min_delta(s.get<double>("min_delta", o.min_delta()));
  s.check(o.patience() >= 1, "patience", "must be >= 1 (evaluations without improvement)");
  s.check(o.min_delta() >= 0, "min_delta", "must be >= 0");
  o.check_finite(s.get<bool>("check_finite", o.check_finite())).restore_best(s.get<bool>("restore_best", o.restore_best()));
  return o;
}

// Writes the columns of `values` [n, c] under `names`.
void write_table(const fs::path& path, const std::vector<std::string>& names, const torch::Tensor& values) {
  core::CsvWriter csv(path, names);
  const auto host = values.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto* p = host.data_ptr<double>();
  const int64_t n = host.size(0), c = host.size(1);
  std::vector<std::string> cells(static_cast<std::size_t>(c));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < c; ++j) cells[static_cast<std::size_t>(j)] = fmt::format("{:.9g}", p[i * c + j]);
    csv.row_cells(cells);
  }
}

// d^k f / dx^k for k = 1..max_order at the rows of x [n, 1] (outputs summed), by the
// nested-autograd engine (exact for any model); returns [n, max_order].
torch::Tensor derivatives_1d(const models::Model& model, const torch::Tensor& x, int64_t max_order) {
  const auto coords = torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt64).device(x.device()));
  std::vector<torch::Tensor> out;
  for (int64_t k = 1; k <= max_order; ++k) {
    out.push_back(regularizers::pure_partials_autograd(model, x, coords, k).sum(2).detach());  // [n, 1]
  }
  return torch::cat(out, 1);
}

void write_predictions(TrainJob& job, const fs::path& dir) {
  const auto& d = job.data;
  std::vector<std::string> names = d.feature_names;
  for (const auto& t : d.target_names) names.push_back(t);
  write_table(dir / "train.csv", names, torch::cat({d.train_x, d.train_y}, 1));
  const bool test = d.has_test();
  if (!test && !d.has_val()) return;
  const auto x = (test ? d.test_x : d.val_x).to(job.device, job.dtype);
  const auto truth = test ? d.test_y : d.val_y;
  torch::Tensor pred;
  {
    torch::NoGradGuard no_grad;
    pred = job.model.forward(x).to(torch::kCPU, torch::kFloat64);
  }
  names = d.feature_names;
  names.push_back("truth");
  names.push_back("pred");
  std::vector<torch::Tensor> cols{x.to(torch::kCPU, torch::kFloat64), truth.sum(1, true), pred.sum(1, true)};
  if (test && d.input_dim() == 1 && job.derivatives > 0) {
    cols.push_back(derivatives_1d(job.model, x, job.derivatives).to(torch::kCPU, torch::kFloat64));
    for (int64_t k = 1; k <= job.derivatives; ++k) names.push_back(fmt::format("d{}_pred", k));
    if (!d.target.empty()) {
      models::Model truth_model;
      truth_model.name = "truth";
      truth_model.forward = [target = d.target](const torch::Tensor& z) { return synthetic_target(target, z); };
      cols.push_back(derivatives_1d(truth_model, d.test_x, job.derivatives));
      for (int64_t k = 1; k <= job.derivatives; ++k) names.push_back(fmt::format("d{}_truth", k));
    }
  }
  write_table(dir / (test ? "predictions.csv" : "predictions_val.csv"), names, torch::cat(cols, 1));
}

}  // namespace

Dataset read_dataset(core::Section s, uint64_t seed) {
  const auto kind = s.get<std::string>("kind", "synthetic");
  s.check_choice("kind", kind, {"synthetic", "csv"});
  const auto data_seed = s.get<int64_t>("seed", static_cast<int64_t>(seed));
  s.check(data_seed >= 0, "seed", "must be >= 0");
  if (kind == "csv") {
    CsvDataOptions o(s.get_path("path", /*required=*/true));
    o.features(s.get<std::vector<std::string>>("features", {})).targets(s.get<std::vector<std::string>>("targets", {}));
    o.val_fraction(s.get<double>("val_fraction", o.val_fraction())).shuffle(s.get<bool>("shuffle", o.shuffle()));
    s.check(o.val_fraction() >= 0 && o.val_fraction() < 1, "val_fraction", "a fraction in [0, 1)");
    return load_csv_dataset(o.seed(static_cast<uint64_t>(data_seed)));
  }
  SyntheticOptions o(s.get<std::string>("target", "cubic"));
  s.check_choice("target", o.target(), synthetic_targets());
  if (synthetic_input_dim(o.target()) == 1) {
    o.n(s.get<int64_t>("n", o.n()));
  } else {
    o.grid(s.get<int64_t>("grid", o.grid()));
  }
  o.noise(s.get<double>("noise", o.noise())).outliers(s.get<double>("outliers", o.outliers()));
  if (o.outliers() > 0) o.outlier_scale(s.get<double>("outlier_scale", o.outlier_scale()));
  o.n_val(s.get<int64_t>("n_val", o.n_val())).test_points(s.get<int64_t>("test_points", o.test_points()));
  return make_synthetic(o.seed(static_cast<uint64_t>(data_seed)));
}

void read_train_section(core::Section t, TrainJob& job, uint64_t seed) {
  auto& o = job.trainer;
  o.steps(t.get<int64_t>("steps", o.steps())).batch_size(t.get<int64_t>("batch_size", o.batch_size()));
  o.eval_every(t.get<int64_t>("eval_every", o.eval_every()));
  o.checkpoint_every(t.get<int64_t>("checkpoint_every", o.checkpoint_every()));
  o.divergence_factor(t.get<double>("divergence_factor", o.divergence_factor()));
  t.check(o.divergence_factor() > 1, "divergence_factor", "must be > 1");
  t.check(o.steps() >= 1, "steps", "must be >= 1");
  t.check(o.batch_size() >= 0, "batch_size", "must be >= 0 (0: full batch)");
  t.check(o.eval_every() >= 1, "eval_every", "must be >= 1");
  t.check(o.checkpoint_every() >= 0, "checkpoint_every", "must be >= 0 (0: never)");
  o.loss(read_loss(t.section("loss")));
  o.optimizer(read_optimizer(t.section("optimizer")));
  o.schedule(read_schedule(t.section("schedule")));
  o.shuffle_seed(seed);
  job.early_stopping = read_early_stopping(t.section("early_stopping"));
  if (job.early_stopping && job.early_stopping->monitor().rfind("val_", 0) == 0 && !job.data.has_val()) {
    t.section("early_stopping").check(false, "monitor",
        fmt::format("'{}' needs validation rows, and this data has none ({}): raise data.val_fraction or "
                    "data.n_val, or monitor train_loss", job.early_stopping->monitor(), job.data.description));
  }
}

TrainJob read_train_job(core::Section root, const core::RunSpec& run, uint64_t seed) {
  TrainJob job;
  job.device = run.device;
  job.dtype = run.dtype;
  const auto& device = run.device;
  auto output = root.section("output");
  job.derivatives = output.get<int64_t>("derivatives", 3);
  output.check(job.derivatives >= 0 && job.derivatives <= 8, "derivatives",
               "orders 0..8 of d^k f/dx^k to write (each order costs a nested backward pass)");
  job.data = read_dataset(root.section("data"), seed);

  core::seed_everything(seed);  // the model's init and the penalty's samples follow the run's seed
  job.model = models::make_model(root.section("model"), job.data.input_dim(), job.data.output_dim());
  job.model.module->to(device, job.dtype);

  auto reg = root.section("regularizer");
  if (reg.get<std::string>("kind", "none") != "none") job.regularizers.push_back(regularizers::make_regularizer(reg));

  read_train_section(root.section("train"), job, seed);
  return job;
}

RunOutcome run_train_job(TrainJob& job, const fs::path& dir, bool resume, const std::string& label,
                         const core::DistributedContext* data_parallel) {
  fs::create_directories(dir / "checkpoints");
  auto options = job.trainer;
  options.checkpoint_dir(dir / "checkpoints").distributed(data_parallel);
  const bool writer = !data_parallel || data_parallel->is_main();
  MinibatchTrainer trainer(job.model, job.regularizers, options);
  // Every rank has the same callbacks (their states are checkpointed by position); rank 0 logs.
  trainer.add_callback(writer ? std::make_shared<CsvLogger>((dir / "metrics.csv").string()) : std::make_shared<Callback>());
  if (job.early_stopping) trainer.add_callback(std::make_shared<EarlyStopping>(*job.early_stopping));
  trainer.add_callback(std::make_shared<ProgressBar>(label));
  trainer.add_callback(std::make_shared<DivergenceCheck>(
      DivergenceCheckOptions().monitor(job.divergence_monitor).factor(options.divergence_factor()).fix("a smaller train.optimizer.lr (or a warmup: train.schedule.warmup)")));
  RunOutcome outcome;
  if (resume) {
    const auto checkpoint = core::latest_checkpoint(dir / "checkpoints");
    if (!checkpoint.empty()) trainer.resume_from(checkpoint), outcome.resumed = true;
  }
  const TrainResult result = trainer.fit(job.data);
  outcome.steps = result.steps;
  outcome.stop_reason = result.stop_reason;
  outcome.metrics = result.metrics;
  outcome.seconds = result.seconds;
  if (!writer) return outcome;
  write_predictions(job, dir);
  core::write_file_atomically(dir / "result.csv", format_run_outcome(outcome));
  return outcome;
}

std::string format_run_outcome(const RunOutcome& outcome) {
  std::string text = "key,value\n";
  text += fmt::format("steps,{}\nseconds,{}\n", outcome.steps, outcome.seconds);
  for (const auto& [k, v] : outcome.metrics) text += fmt::format("{},{}\n", k, v);
  std::string reason = outcome.stop_reason;
  std::replace(reason.begin(), reason.end(), ',', ';');
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  text += fmt::format("stop_reason,{}\n", reason);
  return text;
}

std::optional<RunOutcome> read_run_outcome(const fs::path& dir) {
  std::ifstream in(dir / "result.csv");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return parse_run_outcome(text.str());
}

RunOutcome parse_run_outcome(const std::string& text) {
  std::istringstream in(text);
  RunOutcome outcome;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    if (comma == std::string::npos) continue;
    const auto key = line.substr(0, comma), value = line.substr(comma + 1);
    if (key == "stop_reason") {
      outcome.stop_reason = value;
    } else if (key == "steps") {
      outcome.steps = std::stoll(value);
    } else if (key == "seconds") {
      outcome.seconds = std::stod(value);
    } else {
      outcome.metrics[key] = std::stod(value);
    }
  }
  return outcome;
}

}  // namespace regula::trainers
