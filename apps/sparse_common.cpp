#include "apps/sparse_common.h"

#include <algorithm>
#include <cmath>

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "core/errors.h"
#include "core/mnist.h"

namespace regula::apps {

core::SparseProblem SparseDataSpec::make(int64_t n, uint64_t seed) const {
  const auto n_val = static_cast<int64_t>(std::llround(val_ratio * static_cast<double>(n)));
  if (source == "synthetic") {
    return core::make_synthetic(core::SyntheticOptions(n, d, k).support_values(support_values).sigma(sigma)
                                    .design(design).n_val(n_val).seed(seed));
  }
  if (source == "files") return core::load_problem(x, y, w_star, val_fraction, seed);
  torch::Tensor image;
  if (source == "digit") {
    image = core::builtin_digit();
  } else {
    const auto images = core::read_idx_images(core::find_mnist_images(mnist_dir), mnist_index + 1);
    if (images.size(0) <= mnist_index) {
      throw DataError(fmt::format("data.mnist_index = {} but the MNIST file has only {} images", mnist_index, images.size(0)));
    }
    image = images[mnist_index];
  }
  auto p = core::measure_signal(image.flatten(), n, n_val, sigma, design, seed);
  p.image_shape = image.sizes().vec();
  return p;
}

std::vector<double> read_numbers(core::Section s, const std::string& key, const std::vector<double>& fallback) {
  try {
    return s.get<std::vector<double>>(key, fallback);
  } catch (const ConfigError&) {
    return {s.get<double>(key, fallback.empty() ? 0.0 : fallback.front())};
  }
}

SparseDataSpec read_data_spec(core::Section data) {
  SparseDataSpec s;
  s.source = data.get<std::string>("source", s.source);
  data.check_choice("source", s.source, {"synthetic", "files", "digit", "mnist"});
  s.sigma = data.get<double>("sigma", s.sigma);
  data.check(s.sigma >= 0, "sigma", "must be >= 0");
  s.design = data.get<std::string>("design", s.design);
  data.check_choice("design", s.design, {"rademacher", "gaussian"});
  {  // read for every source so one config can switch sources; images ignore them
    s.d = data.get<int64_t>("d", s.d);
    s.k = data.get<int64_t>("k", s.k);
    data.check(s.d >= 1, "d", "must be >= 1");
    data.check(s.k >= 1 && s.k <= s.d, "k", fmt::format("must be in [1, d = {}]", s.d));
    s.support_values = read_numbers(data, "support_values", s.support_values);
    data.check(!s.support_values.empty(), "support_values", "give at least one value, e.g. [1] or [1, 2, 3, 4]");
  }
  if (s.source == "files") {
    s.x = data.require<std::string>("x");
    s.y = data.require<std::string>("y");
    s.w_star = data.get<std::string>("w_star", "");
  }
  s.val_fraction = data.get<double>("val_fraction", s.val_fraction);
  data.check(s.val_fraction >= 0 && s.val_fraction < 1, "val_fraction", "must be in [0, 1) (rows of X held out, files)");
  s.val_ratio = data.get<double>("val_ratio", s.val_ratio);
  data.check(s.val_ratio >= 0, "val_ratio", "must be >= 0 (validation measurements per training measurement)");
  s.mnist_dir = data.get<std::string>("mnist_dir", "");
  data.check(s.source != "mnist" || !s.mnist_dir.empty(), "mnist_dir",
             "name the folder with the MNIST IDX files (or use source: digit)");
  s.mnist_index = data.get<int64_t>("mnist_index", 0);
  data.check(s.mnist_index >= 0, "mnist_index", "must be >= 0");
  if (s.source == "digit" || s.source == "mnist") s.d = 784;
  return s;
}

double SparseGrid::alpha(std::size_t scale, int64_t depth) const {
  return w0_given_as_alpha ? w0[scale] : std::pow(w0[scale], 1.0 / static_cast<double>(depth));
}

double SparseGrid::w0_of(std::size_t scale, int64_t depth) const {
  return w0_given_as_alpha ? std::pow(w0[scale], static_cast<double>(depth)) : w0[scale];
}

SparseGrid read_grid(core::Section root, bool scale_list) {
  auto model = root.section("model");
  SparseGrid g;
  g.depths = model.get<std::vector<int64_t>>("depths", {2, 3, 4});
  model.check(!g.depths.empty() && *std::min_element(g.depths.begin(), g.depths.end()) >= 1, "depths",
              "a non-empty list of depths N >= 1");
  g.w0_given_as_alpha = model.has("alpha");
  const std::string scale_key = g.w0_given_as_alpha ? "alpha" : "w0";
  g.w0 = scale_list ? read_numbers(model, scale_key, {1e-5}) : std::vector<double>{model.get<double>(scale_key, 1e-5)};
  for (double w : g.w0) model.check(w > 0, scale_key, "must be > 0");
  g.positive = model.get<bool>("positive", false);
  auto train = root.section("train");
  g.eta = read_numbers(train, "eta", {1e-2});
  for (double e : g.eta) train.check(e > 0, "eta", "step sizes must be > 0");
  g.max_steps = train.get<int64_t>("max_steps", g.max_steps);
  g.log_every = train.get<int64_t>("log_every", g.log_every);
  train.check(g.max_steps >= 1, "max_steps", "must be >= 1");
  train.check(g.log_every >= 1, "log_every", "must be >= 1");
  g.divergence_factor = train.get<double>("divergence_factor", g.divergence_factor);
  train.check(g.divergence_factor > 1, "divergence_factor", "must be > 1");
  g.checkpoint_every = train.get<int64_t>("checkpoint_every", g.checkpoint_every);
  train.check(g.checkpoint_every >= 0, "checkpoint_every", "must be >= 0 (0: no checkpoints)");
  return g;
}

SparseRunSpec read_run_spec(core::Section root, const std::string& default_name) {
  SparseRunSpec s;
  s.name = root.get<std::string>("name", default_name);
  const auto threads = root.get<int64_t>("threads", 0);
  root.check(threads >= 0, "threads", "CPU threads: 0 = LibTorch's default, or a count >= 1");
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
  s.device = setup_device_and_seed(root);
  s.seed = static_cast<uint64_t>(root.get<int64_t>("seed", 0));
  s.dtype = read_dtype(root);
  s.data = read_data_spec(root.section("data"));
  return s;
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

torch::ScalarType read_dtype(core::Section root) {
  const auto name = root.get<std::string>("dtype", "float32");
  root.check_choice("dtype", name, {"float32", "float64"});
  return name == "float64" ? torch::kDouble : torch::kFloat;
}

std::string fmt_num(double x) {
  if (std::isnan(x)) return "-";
  if (x != 0 && (std::abs(x) < 1e-3 || std::abs(x) >= 1e5)) return fmt::format("{:.3e}", x);
  return fmt::format("{:.4g}", x);
}

std::string fmt_window(int64_t start, int64_t end, bool censored) {
  if (start < 0) return "-";
  return fmt::format("[{}, {}{}]", start, end, censored ? "+" : "");
}

void print_table(const std::string& title, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t c = 0; c < cells.size(); ++c) s += fmt::format("{}{:<{}}", c ? "  " : "", cells[c], width[c]);
    fmt::print("{}\n", s);
  };
  fmt::print("\n{}\n", title);
  line(header);
  std::vector<std::string> rule;
  for (auto w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
  std::fflush(stdout);
}

trainers::BatchedGDOptions SparseGrid::batched_options(const RunArgs& args, const core::RunDir& dir,
                                                       const core::Config& config) const {
  return trainers::BatchedGDOptions()
      .max_steps(max_steps)
      .log_every(log_every)
      .positive(positive)
      .divergence_factor(divergence_factor)
      .checkpoint_every(checkpoint_every)
      .checkpoint_path((dir.checkpoints() / "batched_gd.pt").string())
      .resume(!args.resume_dir.empty())
      .on_start([&args, dir, &config] { record_resumed_config(args, dir, config); });
}

}  // namespace regula::apps
