#include "trainers/callbacks.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/module.h>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/run_dir.h"

namespace regula::trainers {

void CallbackList::save(core::CheckpointWriter& w) const {
  for (std::size_t i = 0; i < callbacks_.size(); ++i) callbacks_[i]->save(w, fmt::format("callback{}.", i));
}
void CallbackList::load(core::CheckpointReader& r) {
  for (std::size_t i = 0; i < callbacks_.size(); ++i) callbacks_[i]->load(r, fmt::format("callback{}.", i));
}

std::vector<torch::Tensor> snapshot_weights(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : m.buffers()) out.push_back(b.detach().clone());
  return out;
}

void restore_weights(torch::nn::Module& m, const std::vector<torch::Tensor>& weights) {
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (auto& p : m.parameters()) p.copy_(weights.at(i++));
  for (auto& b : m.buffers()) b.copy_(weights.at(i++));
}

// --- EarlyStopping -----------------------------------------------------------

DivergenceCheck::DivergenceCheck(DivergenceCheckOptions options) : options_(std::move(options)) {
  if (!(options_.factor() > 1)) {
    throw ConfigError(fmt::format("divergence factor {} is not valid: must be > 1", options_.factor()));
  }
}

void DivergenceCheck::on_eval_end(TrainState& s) {
  const auto it = s.metrics.find(options_.monitor());
  if (it == s.metrics.end()) return;
  const double value = it->second;
  if (first_ < 0 && std::isfinite(value)) first_ = std::max(value, 1e-30);
  if (!std::isfinite(value) || (first_ > 0 && value > options_.factor() * first_)) {
    throw DivergenceError(fmt::format("training diverged at step {} ({} = {:.4g}{}): use {}", s.step, options_.monitor(),
                                      value, first_ > 0 ? fmt::format(", first {:.4g}", first_) : std::string(),
                                      options_.fix()));
  }
}

void DivergenceCheck::save(core::CheckpointWriter& w, const std::string& prefix) const {
  w.tensor(prefix + "first", torch::tensor({first_}, torch::kDouble));
}

void DivergenceCheck::load(core::CheckpointReader& r, const std::string& prefix) {
  first_ = r.tensor(prefix + "first").item<double>();
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  if (options_.mode() != "min" && options_.mode() != "max") {
    throw ConfigError(fmt::format("early stopping mode '{}' is not valid: use min or max", options_.mode()));
  }
  if (options_.patience() < 1) {
    throw ConfigError(fmt::format("early stopping patience {} is not valid: must be >= 1", options_.patience()));
  }
  if (options_.min_delta() < 0) {
    throw ConfigError(fmt::format("early stopping min_delta {} is not valid: must be >= 0", options_.min_delta()));
  }
  best_ = options_.mode() == "min" ? std::numeric_limits<double>::infinity()
                                   : -std::numeric_limits<double>::infinity();
}

bool EarlyStopping::improves(double value) const {
  if (!std::isfinite(value)) return false;
  return options_.mode() == "min" ? value < best_ - options_.min_delta() : value > best_ + options_.min_delta();
}

void EarlyStopping::on_train_begin(TrainState& s) {
  if (s.model && options_.restore_best() && best_weights_.empty()) best_weights_ = snapshot_weights(*s.model);
}

void EarlyStopping::on_eval_end(TrainState& s) {
  const auto it = s.metrics.find(options_.monitor());
  if (it == s.metrics.end()) {
    std::string names;
    for (const auto& [k, v] : s.metrics) names += (names.empty() ? "" : ", ") + k;
    throw ConfigError(fmt::format("early stopping monitors '{}', which this run does not log (logged: {})",
                                  options_.monitor(), names));
  }
  const double value = it->second;
  if (options_.check_finite() && !std::isfinite(value)) {
    s.stop = true;
    stopped_step_ = s.step;
    s.stop_reason = fmt::format("{} = {} is not finite at step {}", options_.monitor(), value, s.step);
    return;
  }
  if (improves(value)) {
    best_ = value;
    best_step_ = s.step;
    wait_ = 0;
    if (s.model && options_.restore_best()) best_weights_ = snapshot_weights(*s.model);
    return;
  }
  if (++wait_ >= options_.patience()) {
    s.stop = true;
    stopped_step_ = s.step;
    s.stop_reason = fmt::format("early stopping: {} did not improve for {} evaluations (best {:.6g} at step {})",
                                options_.monitor(), options_.patience(), best_, best_step_);
  }
}

void EarlyStopping::on_train_end(TrainState& s) {
  if (s.model && options_.restore_best() && best_step_ >= 0) {
    restore_weights(*s.model, best_weights_);
    core::log_verbose("restored the weights of step {} ({} = {:.6g})", best_step_, options_.monitor(), best_);
  }
}

void EarlyStopping::save(core::CheckpointWriter& w, const std::string& prefix) const {
  w.real(prefix + "best", best_).integer(prefix + "best_step", best_step_).integer(prefix + "wait", wait_);
  w.integer(prefix + "n_weights", static_cast<int64_t>(best_weights_.size()));
  for (std::size_t i = 0; i < best_weights_.size(); ++i) w.tensor(fmt::format("{}w{}", prefix, i), best_weights_[i]);
}

void EarlyStopping::load(core::CheckpointReader& r, const std::string& prefix) {
  best_ = r.real(prefix + "best");
  best_step_ = r.integer(prefix + "best_step");
  wait_ = r.integer(prefix + "wait");
  const int64_t n = r.integer(prefix + "n_weights");
  const auto device = best_weights_.empty() ? torch::Device(torch::kCPU) : best_weights_.front().device();
  best_weights_.clear();
  for (int64_t i = 0; i < n; ++i) best_weights_.push_back(r.tensor(fmt::format("{}w{}", prefix, i)).to(device));
}

// --- CsvLogger -----------------------------------------------------------------

CsvLogger::CsvLogger(std::string path) : path_(std::move(path)) {}
CsvLogger::~CsvLogger() = default;

void CsvLogger::on_eval_end(TrainState& s) {
  if (!csv_) {
    std::vector<std::string> columns{"step"};
    for (const auto& [k, v] : s.metrics) columns.push_back(k);
    // Resuming: keep the first keep_rows_ rows of the existing file (same columns).
    std::vector<std::string> kept;
    if (keep_rows_ > 0) {
      std::ifstream in(path_);
      std::string line;
      if (!std::getline(in, line) || line != fmt::format("{}", fmt::join(columns, ","))) {
        throw CheckpointError(fmt::format("'{}' does not have the columns of this run ({}): restore the run's own "
                                          "file or start a new run", path_, fmt::join(columns, ",")));
      }
      while (static_cast<int64_t>(kept.size()) < keep_rows_ && std::getline(in, line)) kept.push_back(line);
    }
    csv_ = std::make_unique<core::CsvWriter>(path_, columns);
    for (const auto& line : kept) {
      std::vector<std::string> cells;
      std::stringstream ss(line);
      for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
      cells.resize(columns.size());
      csv_->row_cells(cells);
    }
    rows_ = static_cast<int64_t>(kept.size());
  }
  auto row = s.metrics;
  row["step"] = static_cast<double>(s.step);
  csv_->row(row);
  ++rows_;
}

void CsvLogger::save(core::CheckpointWriter& w, const std::string& prefix) const { w.integer(prefix + "rows", rows_); }

void CsvLogger::load(core::CheckpointReader& r, const std::string& prefix) {
  keep_rows_ = r.integer(prefix + "rows");
  csv_.reset();
  // The file must still hold every row the checkpoint counted, each whole: a cut or edited
  // file would otherwise lose rows or gain a padded partial one.
  std::ifstream in(path_);
  std::string line;
  int64_t rows = 0;
  const auto cells = [](const std::string& l) { return std::count(l.begin(), l.end(), ',') + 1; };
  if (keep_rows_ > 0 && std::getline(in, line)) {
    const auto columns = cells(line);
    while (rows < keep_rows_ && std::getline(in, line)) {
      if (in.eof() || cells(line) != columns) break;  // no newline at its end, or cells missing: a partial row
      ++rows;
    }
  }
  if (rows < keep_rows_) {
    throw CheckpointError(fmt::format("'{}' holds {} whole rows but the checkpoint logged {}: the file was cut or "
                                      "edited after the run; restore it or start a new run", path_, rows, keep_rows_));
  }
}

// --- ProgressBar -----------------------------------------------------------------

struct ProgressBar::Impl {
  core::Progress progress;
};

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)) {}
ProgressBar::~ProgressBar() = default;

void ProgressBar::on_train_begin(TrainState& s) {
  impl_ = std::make_unique<Impl>(Impl{core::Progress(label_, s.max_steps)});
}

void ProgressBar::on_step_end(TrainState& s) {
  if (!impl_) return;
  std::string status;
  for (const auto& [k, v] : s.metrics) status += fmt::format("{}={:.4g} ", k, v);
  impl_->progress.update(s.step, status);
}

void ProgressBar::on_train_end(TrainState& s) {
  if (impl_) impl_->progress.finish(s.stop_reason, s.step);
}

}  // namespace regula::trainers
