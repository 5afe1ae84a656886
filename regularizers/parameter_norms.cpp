#include "regularizers/parameter_norms.h"

#include "core/errors.h"

namespace regula::regularizers {

namespace {

bool is_bias(const std::string& name) {
  const std::string suffix = "bias";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_weight(double weight, const char* what) {
  if (!(weight >= 0.0)) {
    throw ConfigError(fmt::format("invalid {} 'weight' = {}: must be a number >= 0", what, weight));
  }
}

/// Sum over the selected parameters of `term(p)` (each a 0-dim tensor), times the weight.
template <class Term>
torch::Tensor weighted_sum(const models::Model& model, const ParameterNormOptions& o, Term term) {
  torch::Tensor total;
  for (const auto& item : model.module->named_parameters()) {
    if (!o.bias() && is_bias(item.key())) continue;
    auto t = term(item.value());
    total = total.defined() ? total + t : t;
  }
  if (!total.defined()) return torch::zeros({}, models::parameter_options(model));
  return total * o.weight();
}

}  // namespace

L2Penalty::L2Penalty(ParameterNormOptions options) : options_(options) { check_weight(options_.weight(), "l2"); }

torch::Tensor L2Penalty::penalty(const models::Model& model) {
  return weighted_sum(model, options_, [](const torch::Tensor& p) { return p.square().sum(); });
}

L1Penalty::L1Penalty(ParameterNormOptions options) : options_(options) { check_weight(options_.weight(), "l1"); }

torch::Tensor L1Penalty::penalty(const models::Model& model) {
  return weighted_sum(model, options_, [](const torch::Tensor& p) { return p.abs().sum(); });
}

ParameterNormOptions parameter_norm_options(core::Section& section) {
  ParameterNormOptions o;
  o.weight(section.get<double>("weight", o.weight()));
  section.check(o.weight() >= 0.0, "weight", "must be a number >= 0");
  o.bias(section.get<bool>("bias", o.bias()));
  return o;
}

}  // namespace regula::regularizers
