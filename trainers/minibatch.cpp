#include "trainers/minibatch.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "core/checkpoint.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/logging.h"
#include "regularizers/regularizer.h"

namespace fs = std::filesystem;

namespace regula::trainers {
namespace {

torch::Tensor to_model(const torch::Tensor& t, const torch::TensorOptions& opts) {
  return t.defined() ? t.to(opts.device(), opts.dtype().toScalarType()) : t;
}

// Pearson correlation of two flattened tensors (device, 0-dim).
torch::Tensor pearson(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.reshape(-1) - a.mean(), y = b.reshape(-1) - b.mean();
  return (x * y).sum() / (x.norm() * y.norm());
}

}  // namespace

MinibatchTrainer::MinibatchTrainer(models::Model model,
                                   std::vector<std::shared_ptr<regularizers::Regularizer>> regularizers,
                                   MinibatchOptions options)
    : model_(std::move(model)),
      regularizers_(std::move(regularizers)),
      options_(std::move(options)),
      optimizer_(make_optimizer(model_.module->parameters(), options_.optimizer())),
      schedule_(options_.schedule(), options_.optimizer().lr(), options_.steps()),
      shuffle_gen_(at::make_generator<at::CPUGeneratorImpl>(options_.shuffle_seed())) {
  auto bad = [](const std::string& key, int64_t v, const char* valid) {
    return ConfigError(fmt::format("train.{} = {} is not valid: {}", key, v, valid));
  };
  if (options_.steps() < 1) throw bad("steps", options_.steps(), "must be >= 1");
  if (options_.batch_size() < 0) throw bad("batch_size", options_.batch_size(), "must be >= 0 (0: full batch)");
  if (options_.eval_every() < 1) throw bad("eval_every", options_.eval_every(), "must be >= 1");
  if (options_.checkpoint_every() < 0) throw bad("checkpoint_every", options_.checkpoint_every(), "must be >= 0 (0: never)");
  if (options_.checkpoint_every() > 0 && options_.checkpoint_dir().empty()) {
    throw ConfigError("checkpoints were asked for (train.checkpoint_every > 0) but no checkpoint folder was given");
  }
  for (const auto& r : regularizers_) {
    if (!r) throw ConfigError("a null regularizer was passed to the trainer");
  }
  data_loss(torch::zeros({1, 1}), torch::zeros({1, 1}), options_.loss());  // validates the loss options
}

MinibatchTrainer::~MinibatchTrainer() = default;

void MinibatchTrainer::add_callback(std::shared_ptr<Callback> callback) { callbacks_.add(std::move(callback)); }

void MinibatchTrainer::resume_from(const fs::path& checkpoint) { resume_path_ = checkpoint; }

const core::DistributedContext* MinibatchTrainer::data_parallel() const {
  const auto* d = options_.distributed();
  return d && d->active() ? d : nullptr;
}

std::pair<torch::Tensor, torch::Tensor> MinibatchTrainer::step(const torch::Tensor& x, const torch::Tensor& y) {
  optimizer_->zero_grad();
  const auto* dist = data_parallel();
  torch::Tensor loss;
  if (!x.defined()) {  // no training rows: the regularizers carry the loss
    loss = torch::zeros({}, models::parameter_options(model_));
  } else if (dist) {
    // This rank's rows of the global batch; its loss weighted by its share, so that the summed
    // gradients are those of the whole batch's mean loss.
    const auto [lo, hi] = core::shard_range(x.size(0), dist->rank(), dist->world_size());
    loss = data_loss(model_.forward(x.slice(0, lo, hi)), y.slice(0, lo, hi), options_.loss()) *
           (static_cast<double>(hi - lo) / static_cast<double>(x.size(0)));
  } else {
    loss = data_loss(model_.forward(x), y, options_.loss());
  }
  torch::Tensor penalty = torch::zeros({}, loss.options());
  for (const auto& r : regularizers_) penalty = penalty + r->penalty(model_);
  if (dist) penalty = penalty / static_cast<double>(dist->world_size());  // the mean of the ranks' estimates
  (loss + penalty).backward();
  if (dist) average_gradients();
  optimizer_->step();
  return {loss.detach(), penalty.detach()};
}

void MinibatchTrainer::average_gradients() {
  std::vector<torch::Tensor> grads;
  for (auto& p : model_.module->parameters()) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  data_parallel()->all_reduce_sum(grads);  // the weights above make the sum the global step
}

std::pair<torch::Tensor, torch::Tensor> MinibatchTrainer::next_batch() {
  const int64_t n = data_.train_x.size(0);
  if (n == 0) return {};  // the regularizers carry the loss
  if (batch_ == n) return {data_.train_x, data_.train_y};
  if (!order_.defined() || cursor_ + batch_ > n) {
    order_ = torch::randperm(n, shuffle_gen_, torch::kInt64).to(data_.train_x.device());
    cursor_ = 0;
  }
  const auto idx = order_.slice(0, cursor_, cursor_ + batch_);
  cursor_ += batch_;
  return {data_.train_x.index_select(0, idx), data_.train_y.index_select(0, idx)};
}

std::map<std::string, double> MinibatchTrainer::evaluate(const Dataset& data) const {
  torch::NoGradGuard no_grad;
  const bool was_training = model_.module->is_training();
  model_.module->eval();
  std::vector<std::string> names;
  std::vector<torch::Tensor> values;
  if (data.train_x.size(0) > 0) {
    names.push_back("train_mse");
    values.push_back((model_.forward(data.train_x) - data.train_y).pow(2).mean());
  }
  if (data.has_val()) {
    names.push_back("val_loss");
    values.push_back((model_.forward(data.val_x) - data.val_y).pow(2).mean());
  }
  if (data.has_test()) {
    const auto pred = model_.forward(data.test_x);
    names.insert(names.end(), {"test_mse", "test_pearson", "test_rel_l2"});
    values.push_back((pred - data.test_y).pow(2).mean());
    values.push_back(pearson(pred, data.test_y));
    values.push_back((pred - data.test_y).norm() / data.test_y.norm());
  }
  model_.module->train(was_training);
  if (values.empty()) return {};
  std::map<std::string, double> out;
  const auto host = torch::stack(values).to(torch::kCPU, torch::kFloat64);  // the one host sync
  for (std::size_t i = 0; i < names.size(); ++i) out[names[i]] = host[static_cast<int64_t>(i)].item<double>();
  return out;
}

torch::Tensor MinibatchTrainer::running_sums() const {
  std::vector<torch::Tensor> parts{sum_loss_, sum_penalty_};
  for (const auto& [name, sum] : sum_terms_) parts.push_back(sum);
  std::vector<torch::Tensor> sums{torch::stack(parts)};
  if (const auto* dist = data_parallel()) dist->all_reduce_sum(sums);  // every rank's share of each step
  return sums[0];
}

std::map<std::string, double> MinibatchTrainer::read_train_metrics() {
  const auto host = running_sums().to(torch::kCPU, torch::kFloat64);  // the one host sync
  const double count = static_cast<double>(std::max<int64_t>(sum_count_, 1));
  // The penalty is already each rank's share; a regularizer's terms are each rank's whole estimate.
  const auto* dist = data_parallel();
  const double ranks = dist ? static_cast<double>(dist->world_size()) : 1.0;
  std::map<std::string, double> out{{"train_loss", host[0].item<double>() / count},
                                    {"penalty", host[1].item<double>() / count},
                                    {"lr", schedule_.lr(step_ - 1)}};
  int64_t i = 2;
  for (auto& [name, sum] : sum_terms_) {
    out[name] = host[i++].item<double>() / count / ranks;
    sum.zero_();
  }
  sum_loss_.zero_(), sum_penalty_.zero_(), sum_count_ = 0;
  return out;
}

TrainResult MinibatchTrainer::fit(const Dataset& data) {
  const auto start = std::chrono::steady_clock::now();
  const auto opts = models::parameter_options(model_);
  data_ = data;
  for (auto* t : {&data_.train_x, &data_.train_y, &data_.val_x, &data_.val_y, &data_.test_x, &data_.test_y}) {
    *t = to_model(*t, opts);
  }
  const int64_t n = data_.train_x.size(0);
  if (n < 1 && regularizers_.empty()) throw DataError("the training set is empty");
  batch_ = options_.batch_size() == 0 ? n : std::min(options_.batch_size(), n);
  sum_loss_ = torch::zeros({}, opts), sum_penalty_ = torch::zeros({}, opts), sum_count_ = 0;
  model_.module->train();
  for (const auto& r : regularizers_) r->setup(model_, data_.train_x);

  TrainState state;
  state.model = model_.module.get();
  state.max_steps = options_.steps();
  state.step = step_;
  callbacks_.train_begin(state);
  const bool resumed = !resume_path_.empty();
  if (resumed) {
    load_checkpoint(resume_path_);
    resume_path_.clear();
    state.step = step_;
    core::log_info("resumed at step {} of {}", step_, options_.steps());
  }
  if (const auto* dist = data_parallel()) {
    if (batch_ < dist->world_size()) {
      throw ConfigError(fmt::format("train.batch_size = {} rows is fewer than the {} ranks of data-parallel training: "
                                    "raise train.batch_size (0: the full batch of {} rows) or launch fewer ranks",
                                    batch_, dist->world_size(), n));
    }
    if (options_.loss().kind() == "trimmed") {
      core::log_warn("data-parallel training trims each rank's slice of a batch, not the whole batch");
    }
    // Every rank's own regularizer points from here on (rank 0 keeps a one-process run's).
    if (!resumed && dist->rank() > 0) core::seed_everything(options_.shuffle_seed() + 0x9E3779B97F4A7C15ULL * dist->rank());
    torch::NoGradGuard no_grad;  // a broadcast into leaf parameters must not be recorded
    std::vector<torch::Tensor> weights;
    for (auto& p : model_.module->parameters()) weights.push_back(p.data());
    for (auto& b : model_.module->buffers()) weights.push_back(b.data());
    dist->broadcast(weights);
  }

  while (step_ < options_.steps() && !state.stop) {
    schedule_.apply(*optimizer_, step_);
    const auto [x, y] = next_batch();
    const auto [loss, penalty] = step(x, y);
    sum_loss_.add_(loss), sum_penalty_.add_(penalty), ++sum_count_;
    for (const auto& r : regularizers_) {
      for (const auto& [name, value] : r->last_terms()) {
        auto& sum = sum_terms_[name];
        if (!sum.defined()) sum = torch::zeros({}, opts);
        sum.add_(value);
      }
    }
    state.step = ++step_;
    if (step_ % options_.eval_every() == 0 || step_ == options_.steps()) {
      state.metrics = read_train_metrics();
      for (const auto& [k, v] : evaluate(data_)) state.metrics[k] = v;
      callbacks_.eval_end(state);  // a DivergenceCheck among them ends a diverging run with an error
    }
    callbacks_.step_end(state);
    if (options_.checkpoint_every() > 0 && step_ % options_.checkpoint_every() == 0) {
      const auto path = options_.checkpoint_dir() / fmt::format("step_{:08d}.pt", step_);
      save_checkpoint(path);
      // Keep the two newest checkpoints.
      if (const auto* dist = data_parallel(); dist && !dist->is_main()) continue;
      const auto old = options_.checkpoint_dir() / fmt::format("step_{:08d}.pt", step_ - 2 * options_.checkpoint_every());
      std::error_code ec;
      fs::remove(old, ec);
    }
  }
  callbacks_.train_end(state);

  TrainResult result;
  result.steps = step_;
  result.stop_reason = state.stop_reason;
  result.metrics = evaluate(data_);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

namespace {

// The generator state of this rank: the CPU one, and its CUDA device's when the model is there.
torch::Tensor rank_rng_state(const torch::Device& device) {
  auto state = at::globalContext().defaultGenerator(at::kCPU).get_state();
  if (device.is_cuda()) state = torch::cat({state, at::globalContext().defaultGenerator(device).get_state()});
  return state;
}

void set_rank_rng_state(const torch::Device& device, const torch::Tensor& state) {
  at::Generator cpu = at::globalContext().defaultGenerator(at::kCPU);
  const int64_t n_cpu = cpu.get_state().numel();
  cpu.set_state(state.slice(0, 0, n_cpu).contiguous());
  if (device.is_cuda() && state.numel() > n_cpu) {
    at::Generator gen = at::globalContext().defaultGenerator(device);
    gen.set_state(state.slice(0, n_cpu).contiguous());
  }
}

}  // namespace

void MinibatchTrainer::save_checkpoint(const fs::path& path) const {
  // Collective when data-parallel: every rank saves at the same step; rank 0 writes the global
  // sums and every rank's generator state.
  const auto sums = running_sums();
  std::vector<torch::Tensor> rank_rng;
  if (const auto* dist = data_parallel()) {
    rank_rng = dist->all_gather(rank_rng_state(models::parameter_options(model_).device()));
    if (!dist->is_main()) return;
  }
  core::CheckpointWriter w;
  if (!rank_rng.empty()) w.integer("dist.world_size", static_cast<int64_t>(rank_rng.size()));
  for (std::size_t r = 1; r < rank_rng.size(); ++r) w.tensor(fmt::format("dist.rng.rank{}", r), rank_rng[r]);
  w.module("model", *model_.module).optimizer("optimizer", *optimizer_);
  w.integer("trainer.step", step_).integer("trainer.cursor", cursor_).integer("trainer.sum_count", sum_count_);
  w.integer("trainer.has_order", order_.defined() ? 1 : 0);
  if (order_.defined()) w.tensor("trainer.order", order_);
  w.tensor("trainer.shuffle_rng", shuffle_gen_.get_state());
  w.tensor("trainer.sum_loss", sums[0]).tensor("trainer.sum_penalty", sums[1]);
  std::string term_names;
  int64_t i = 2;
  for (const auto& [name, sum] : sum_terms_) {
    term_names += name + "\n";
    w.tensor("trainer.term." + name, sums[i++]);
  }
  w.text("trainer.terms", term_names);
  w.rng_state();
  callbacks_.save(w);
  w.commit(path);
}

void MinibatchTrainer::load_checkpoint(const fs::path& path) {
  core::CheckpointReader r(path);
  r.module("model", *model_.module);
  r.optimizer("optimizer", *optimizer_);
  step_ = r.integer("trainer.step");
  cursor_ = r.integer("trainer.cursor");
  sum_count_ = r.integer("trainer.sum_count");
  if (r.integer("trainer.has_order")) order_ = r.tensor("trainer.order").to(data_.train_x.device());
  shuffle_gen_.set_state(r.tensor("trainer.shuffle_rng"));
  sum_loss_.copy_(r.tensor("trainer.sum_loss"));
  sum_penalty_.copy_(r.tensor("trainer.sum_penalty"));
  sum_terms_.clear();
  if (r.has("trainer.terms")) {
    std::stringstream names(r.text("trainer.terms"));
    for (std::string name; std::getline(names, name);) {
      if (!name.empty()) sum_terms_[name] = r.tensor("trainer.term." + name).to(sum_loss_.device());
    }
  }
  if (step_ > options_.steps()) {
    throw CheckpointError(fmt::format("checkpoint '{}' is at step {}, past train.steps = {}: raise train.steps",
                                      path.string(), step_, options_.steps()));
  }
  if (order_.defined() && order_.size(0) != data_.train_x.size(0)) {
    throw CheckpointError(fmt::format("checkpoint '{}' was written for {} training rows, the data has {}",
                                      path.string(), order_.size(0), data_.train_x.size(0)));
  }
  r.restore_rng_state();
  if (const auto* dist = data_parallel(); dist && dist->rank() > 0) {
    // Rank 0's sums hold every rank's share; this rank's own generator, or (written by another
    // number of ranks) a fresh one of its own.
    sum_loss_.zero_(), sum_penalty_.zero_();
    for (auto& [name, sum] : sum_terms_) sum.zero_();
    const auto key = fmt::format("dist.rng.rank{}", dist->rank());
    if (r.has("dist.world_size") && r.integer("dist.world_size") == dist->world_size() && r.has(key)) {
      set_rank_rng_state(models::parameter_options(model_).device(), r.tensor(key));
    } else {
      core::seed_everything(options_.shuffle_seed() + 0x9E3779B97F4A7C15ULL * dist->rank() + static_cast<uint64_t>(step_));
    }
  }
  callbacks_.load(r);
}

}  // namespace regula::trainers
