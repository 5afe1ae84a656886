#include "regularizers/ktv.h"

#include <algorithm>
#include <cmath>

#include <ATen/Context.h>

#include "core/errors.h"
#include "core/logging.h"

namespace regula::regularizers {

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw ConfigError(fmt::format("invalid k-TV option '{}' = {}: {}", key, value, valid));
}

std::string show(const std::vector<double>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); }

void validate_box(const Box& box) {
  if (box.low.size() != box.high.size() || box.low.empty()) {
    bad("domain", show(box.low) + " to " + show(box.high),
        "low and high need the same number (>= 1) of entries, one per input coordinate or one for all");
  }
  for (std::size_t j = 0; j < box.low.size(); ++j) {
    if (!(std::isfinite(box.low[j]) && std::isfinite(box.high[j]) && box.low[j] < box.high[j])) {
      bad("domain", fmt::format("[{}, {}] (coordinate {})", box.low[j], box.high[j], j),
          "each side must be finite with low < high");
    }
  }
}

// The input dimension a model declares, or 0 when it does not say.
int64_t declared_input_dim(const models::Model& model) {
  const auto plan = taylor_plan(model);
  return plan.supported() ? plan.input_dim : 0;
}

}  // namespace

void validate(const KTVOptions& o) {
  if (o.order() < 1) bad("order", std::to_string(o.order()), "must be an integer >= 1");
  if (!(o.power() >= 1.0) || !std::isfinite(o.power())) bad("power", fmt::format("{}", o.power()), "must be a number >= 1");
  if (!(o.weight() >= 0.0) || !std::isfinite(o.weight())) bad("weight", fmt::format("{}", o.weight()), "must be a number >= 0");
  if (o.samples() < 1) bad("samples", std::to_string(o.samples()), "must be an integer >= 1");
  if (!(o.padding() >= 0.0) || !std::isfinite(o.padding())) bad("padding", fmt::format("{}", o.padding()), "must be a number >= 0");
  if (o.coordinates() < 0) bad("coordinates", std::to_string(o.coordinates()), "must be 0 (all) or a count >= 1");
  if (!o.uses_data_domain()) validate_box(Box{o.low(), o.high()});
  if (o.engine() == Engine::kReverse && o.order() != 1) {
    bad("engine", "reverse", fmt::format("computes first derivatives only, but order = {}; use auto, taylor or autograd",
                                         o.order()));
  }
}

KTVOptions ktv_options(core::Section& s) {
  KTVOptions o(s.get<int64_t>("order", 2));
  s.check(o.order() >= 1, "order", "must be an integer >= 1");
  o.power(s.get<double>("power", o.power()));
  s.check(o.power() >= 1.0, "power", "must be a number >= 1 (2 is the original k-TV)");
  o.weight(s.get<double>("weight", o.weight()));
  s.check(o.weight() >= 0.0, "weight", "must be a number >= 0");
  o.samples(s.get<int64_t>("samples", o.samples()));
  s.check(o.samples() >= 1, "samples", "must be an integer >= 1");
  // domain: "data" | [lo, hi] | [[lo_1, hi_1], ..., [lo_d, hi_d]]
  const char* domain_forms = "must be 'data', [lo, hi] (every coordinate) or [[lo_1, hi_1], ..., [lo_d, hi_d]] with lo < hi";
  using Shape = core::Section::Shape;
  const Shape domain_shape = s.shape("domain");
  const bool from_data = domain_shape == Shape::kAbsent || domain_shape == Shape::kScalar;
  if (from_data) {
    s.check(s.get<std::string>("domain", "data") == "data", "domain", domain_forms);
  } else {
    std::vector<double> lo, hi;
    if (domain_shape == Shape::kList) {
      const auto flat = s.get<std::vector<double>>("domain", {});
      s.check(flat.size() == 2, "domain", domain_forms);
      lo = {flat[0]};
      hi = {flat[1]};
    } else {
      s.check(domain_shape == Shape::kNestedList, "domain", domain_forms);
      for (const auto& row : s.get<std::vector<std::vector<double>>>("domain", {})) {
        s.check(row.size() == 2, "domain", domain_forms);
        lo.push_back(row[0]);
        hi.push_back(row[1]);
      }
    }
    bool ok = !lo.empty();
    for (std::size_t j = 0; j < lo.size(); ++j) ok = ok && std::isfinite(lo[j]) && std::isfinite(hi[j]) && lo[j] < hi[j];
    s.check(ok, "domain", domain_forms);
    o.domain(lo, hi);
  }
  o.padding(s.get<double>("padding", 0.0));
  s.check(o.padding() >= 0.0, "padding", "must be a number >= 0 (a fraction of each side's length)");
  s.check(from_data || o.padding() == 0.0, "padding", "only applies to domain: data");
  o.coordinates(s.get<int64_t>("coordinates", 0));
  s.check(o.coordinates() >= 0, "coordinates", "must be 0 (all) or a count >= 1");
  const auto engine = s.get<std::string>("engine", "auto");
  s.check_choice("engine", engine, {"auto", "taylor", "reverse", "autograd"});
  o.engine(parse_engine(engine));
  s.check(o.engine() != Engine::kReverse || o.order() == 1, "engine",
          "reverse computes first derivatives only (order 1); use auto, taylor or autograd");
  return o;
}

double ktv_scale(int64_t dim, int64_t coordinates, double volume, double weight) {
  return weight * volume * static_cast<double>(dim) / static_cast<double>(coordinates);
}

torch::Tensor ktv_penalty(const models::Model& model, const torch::Tensor& points, const Box& box,
                          const KTVOptions& options, const torch::Tensor& coords) {
  const int64_t d = points.size(1);
  TORCH_CHECK(box.dim() == d, "k-TV: the domain has ", box.dim(), " coordinates but the points have ", d);
  const auto c = coords.defined() ? coords : sample_coordinates(d, 0, points.device());
  if (options.engine() != Engine::kAutograd) {  // Taylor or reverse mode: the fused CPU pass where it applies
    const auto plan = taylor_plan(model);
    const double scale = ktv_scale(d, c.size(0), box.volume(), options.weight());
    auto fused = ktv_fused(plan, points, c, options.order(), options.power(), scale, options.engine());
    if (fused.defined()) return fused;
  }
  const auto D = pure_partials(model, points, c, options.order(), options.engine());  // [M, S, p]
  return ktv_from_partials(D, d, box.volume(), options.power(), options.weight());
}

torch::Tensor ktv_from_partials(const torch::Tensor& D, int64_t dim, double volume, double power, double weight) {
  const double q = power;
  const auto terms = q == 2.0 ? D.square() : (q == 1.0 ? D.abs() : D.abs().pow(q));
  // vol * mean_m (d/|S|) sum_{j in S} sum_o |.|^q
  return terms.sum({1, 2}).mean() * ktv_scale(dim, D.size(1), volume, weight);
}

KTV::KTV(KTVOptions options) : options_(std::move(options)) {
  validate(options_);
  if (!options_.uses_data_domain()) box_ = Box{options_.low(), options_.high()};
}

void KTV::resolve_box(const models::Model& model, int64_t input_dim) {
  if (input_dim <= 0) input_dim = declared_input_dim(model);
  if (options_.uses_data_domain()) {
    if (box_.dim() == 0) {
      throw Error("k-TV with domain 'data' needs setup(model, train_inputs) before penalty(); "
                  "or give the domain explicitly");
    }
    if (input_dim > 0 && box_.dim() != input_dim) {
      throw DataError(fmt::format("k-TV domain 'data': the training inputs have {} columns but the model "
                                  "takes {} inputs", box_.dim(), input_dim));
    }
    return;
  }
  Box box{options_.low(), options_.high()};
  if (box.dim() == 1 && input_dim > 1) box = box.broadcast(input_dim);
  if (input_dim > 0 && box.dim() != input_dim) {
    bad("domain", show(options_.low()) + " to " + show(options_.high()),
        fmt::format("the model takes {} inputs: give one [lo, hi] per input coordinate or one for all", input_dim));
  }
  box_ = box;
}

void KTV::resolve_engine(const models::Model& model) {
  const auto plan = taylor_plan(model);
  const int64_t d = plan.supported() ? plan.input_dim : box_.dim();
  const int64_t directions = options_.coordinates() > 0 ? std::min(options_.coordinates(), d) : d;
  const auto choice = regularizers::resolve_engine(model, options_.engine(), options_.order(), directions, "k-TV");
  engine_ = choice.engine;
  engine_reason_ = choice.reason;
  core::log_info("k-TV: {} engine ({})", engine_description(engine_), engine_reason_);
  if (models::parameter_options(model).device().is_cuda() && at::globalContext().allowTF32CuBLAS()) {
    core::log_warn("k-TV: TF32 matmuls are enabled; derivatives of order {} lose precision with them "
                   "(torch::globalContext().setAllowTF32CuBLAS(false))", options_.order());
  }
}

void KTV::setup(const models::Model& model, const torch::Tensor& train_inputs) {
  if (options_.uses_data_domain()) box_ = bounding_box(train_inputs).padded(options_.padding());
  const int64_t declared = declared_input_dim(model);
  resolve_box(model, declared > 0 ? declared
                                  : (train_inputs.defined() && train_inputs.dim() == 2 ? train_inputs.size(1) : 0));
  resolve_engine(model);
}

torch::Tensor KTV::sample_points(const torch::TensorOptions& options) {
  if (sampler_.box().low != box_.low || sampler_.box().high != box_.high) sampler_ = BoxSampler(box_);
  return sampler_.uniform(options_.samples(), options);
}

torch::Tensor KTV::penalty(const models::Model& model) {
  if (engine_ == Engine::kAuto) {  // setup() was not called: resolve on first use
    resolve_box(model, 0);
    resolve_engine(model);
  }
  const auto popts = models::parameter_options(model);
  const auto points = sample_points(popts);
  const auto coords = sample_coordinates(box_.dim(), options_.coordinates(), popts.device());
  auto opts = options_;
  opts.engine(engine_);
  return ktv_penalty(model, points, box_, opts, coords);
}

}  // namespace regula::regularizers
