#include "trainers/data.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"
#include "core/tabular.h"

namespace regula::trainers {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// An equispaced lattice of g x g points over [lo, hi]^2, row-major in x1.
torch::Tensor lattice(int64_t g, double lo, double hi) {
  const auto t = torch::linspace(lo, hi, g, kF64);
  auto grids = torch::meshgrid({t, t}, "ij");
  return torch::stack({grids[0].reshape(-1), grids[1].reshape(-1)}, 1);
}

void check_option(bool ok, const std::string& what) {
  if (!ok) throw ConfigError(what);
}

}  // namespace

const std::vector<std::string>& synthetic_targets() {
  static const std::vector<std::string> names{"linear", "quadratic", "cubic", "checkered", "volcano", "stripe", "plane"};
  return names;
}

int64_t synthetic_input_dim(const std::string& target) {
  const auto& names = synthetic_targets();
  const auto it = std::find(names.begin(), names.end(), target);
  if (it == names.end()) {
    throw ConfigError(fmt::format("unknown synthetic target '{}': use one of {}", target, fmt::join(names, ", ")));
  }
  return it - names.begin() < 3 ? 1 : 2;
}

torch::Tensor synthetic_target(const std::string& target, const torch::Tensor& x) {
  const int64_t d = synthetic_input_dim(target);
  if (x.dim() != 2 || x.size(1) != d) {
    throw DataError(fmt::format("target '{}' takes inputs of shape [n, {}]", target, d));
  }
  if (d == 1) {
    if (target == "linear") return x.clone();
    if (target == "quadratic") return 4.0 * x * x;
    return (64.0 / 7.0) * (x + 0.375) * x * (x - 0.375);  // cubic
  }
  const auto x1 = x.select(1, 0).unsqueeze(1), x2 = x.select(1, 1).unsqueeze(1);
  if (target == "checkered") return torch::sin(2.0 * x1) * torch::cos(2.0 * x2);
  if (target == "stripe") return torch::sin(2.0 * (x1 + x2));
  if (target == "plane") return x1 - x2;
  const auto r = torch::sqrt((x1 - M_PI).pow(2) + (x2 - M_PI).pow(2));  // volcano
  return torch::exp(-(r - 2.0).pow(2));
}

torch::Tensor synthetic_outlier_mask(const SyntheticOptions& o) {
  const int64_t n = synthetic_input_dim(o.target()) == 1 ? o.n() : o.grid() * o.grid();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed() * 7919 + 17);
  const int64_t count = std::llround(o.outliers() * static_cast<double>(n));
  auto mask = torch::zeros({n}, torch::kBool);
  if (count > 0) mask.index_fill_(0, torch::randperm(n, gen).slice(0, 0, count), true);
  return mask;
}

Dataset make_synthetic(const SyntheticOptions& o) {
  const int64_t d = synthetic_input_dim(o.target());
  check_option(o.noise() >= 0, fmt::format("data.noise = {} is not valid: must be >= 0", o.noise()));
  check_option(o.outliers() >= 0 && o.outliers() < 1,
               fmt::format("data.outliers = {} is not valid: a fraction in [0, 1)", o.outliers()));
  check_option(o.n_val() >= 0, fmt::format("data.n_val = {} is not valid: must be >= 0", o.n_val()));
  check_option(o.test_points() >= 2, fmt::format("data.test_points = {} is not valid: must be >= 2", o.test_points()));
  const double lo = d == 1 ? -0.5 : 0.0, hi = d == 1 ? 0.5 : 2.0 * M_PI;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());

  Dataset data;
  if (d == 1) {
    check_option(o.n() >= 2, fmt::format("data.n = {} is not valid: need at least 2 points", o.n()));
    data.train_x = lo + (hi - lo) * torch::rand({o.n(), 1}, gen, kF64);
    data.test_x = torch::linspace(lo, hi, o.test_points(), kF64).unsqueeze(1);
    data.feature_names = {"x"};
  } else {
    check_option(o.grid() >= 2, fmt::format("data.grid = {} is not valid: need at least 2 points per axis", o.grid()));
    data.train_x = lattice(o.grid(), lo, hi);
    data.test_x = lattice(o.test_points(), lo, hi);
    data.feature_names = {"x1", "x2"};
  }
  const int64_t n = data.train_x.size(0);
  data.train_y = synthetic_target(o.target(), data.train_x) + o.noise() * torch::randn({n, 1}, gen, kF64);
  data.val_x = lo + (hi - lo) * torch::rand({o.n_val(), d}, gen, kF64);
  data.val_y = synthetic_target(o.target(), data.val_x) + o.noise() * torch::randn({o.n_val(), 1}, gen, kF64);
  data.test_y = synthetic_target(o.target(), data.test_x);
  data.target_names = {"y"};
  data.target = o.target();

  const auto mask = synthetic_outlier_mask(o);
  const int64_t count = mask.sum().item<int64_t>();
  if (count > 0) {
    auto ogen = at::make_generator<at::CPUGeneratorImpl>(o.seed() * 7919 + 18);
    const auto sign = torch::randint(0, 2, {count, 1}, ogen, kF64) * 2 - 1;
    const auto size = 0.5 + 0.5 * torch::rand({count, 1}, ogen, kF64);
    const auto idx = mask.nonzero().squeeze(1);
    data.train_y.index_add_(0, idx, o.outlier_scale() * sign * size);
  }
  data.description = fmt::format("synthetic {} ({}-D): {} training points, noise sd {}, {} outliers, {} validation, {} test",
                                 o.target(), d, n, o.noise(), count, o.n_val(), data.test_x.size(0));
  return data;
}

Dataset load_csv_dataset(const CsvDataOptions& o) {
  if (o.path().empty()) throw ConfigError("data.path is empty: name a CSV file (data.kind=csv)");
  check_option(o.val_fraction() >= 0 && o.val_fraction() < 1,
               fmt::format("data.val_fraction = {} is not valid: a fraction in [0, 1)", o.val_fraction()));
  const core::Table table = core::read_csv(o.path());
  const int64_t rows = table.values.size(0);
  auto targets = o.targets();
  if (targets.empty()) targets = {table.columns.back()};
  auto features = o.features();
  if (features.empty()) {
    for (const auto& c : table.columns) {
      if (std::find(targets.begin(), targets.end(), c) == targets.end()) features.push_back(c);
    }
  }
  if (features.empty()) {
    throw DataError(fmt::format("'{}' has no feature column left besides the targets ({})", o.path().string(),
                                fmt::join(targets, ", ")));
  }
  auto columns = [&](const std::vector<std::string>& names) {
    std::vector<int64_t> idx;
    for (const auto& name : names) {
      try {
        idx.push_back(table.column(name));
      } catch (const DataError& e) {
        throw DataError(fmt::format("'{}': {}; fix data.features / data.targets", o.path().string(), e.what()));
      }
    }
    return table.values.index_select(1, torch::tensor(idx, torch::kInt64));
  };
  auto x = columns(features), y = columns(targets);
  const int64_t n_val = static_cast<int64_t>(std::floor(o.val_fraction() * static_cast<double>(rows)));
  if (rows - n_val < 2) {
    throw DataError(fmt::format("'{}' has {} rows: too few to train on after holding out {} for validation",
                                o.path().string(), rows, n_val));
  }
  if (o.shuffle()) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed());
    const auto perm = torch::randperm(rows, gen);
    x = x.index_select(0, perm), y = y.index_select(0, perm);
  }
  Dataset data;
  data.train_x = x.slice(0, 0, rows - n_val).contiguous();
  data.train_y = y.slice(0, 0, rows - n_val).contiguous();
  data.val_x = x.slice(0, rows - n_val).contiguous();
  data.val_y = y.slice(0, rows - n_val).contiguous();
  data.feature_names = features;
  data.target_names = targets;
  data.description = fmt::format("CSV {}: {} rows, features [{}] -> targets [{}], {} for validation", o.path().string(),
                                 rows, fmt::join(features, ", "), fmt::join(targets, ", "), n_val);
  return data;
}

}  // namespace regula::trainers
