#include "models/diagonal_parametrization.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"
#include "core/registry.h"

namespace regula::models {
namespace {

class SignedWeights : public DiagonalParametrization {
 public:
  std::string name() const override { return "signed"; }
  bool has_v() const override { return true; }
  bool nonnegative() const override { return false; }
  Parts parts(const torch::Tensor& u, const torch::Tensor& v,
              const std::function<torch::Tensor(const torch::Tensor&)>& pow_n1) const override {
    const auto pu = pow_n1(u), pv = pow_n1(v);
    return {u * pu - v * pv, pu, -pv};
  }
};

class PositiveWeights : public DiagonalParametrization {
 public:
  std::string name() const override { return "positive"; }
  bool has_v() const override { return false; }
  bool nonnegative() const override { return true; }
  Parts parts(const torch::Tensor& u, const torch::Tensor&,
              const std::function<torch::Tensor(const torch::Tensor&)>& pow_n1) const override {
    const auto pu = pow_n1(u);
    return {u * pu, pu, {}};
  }
};

using Factory = std::function<std::shared_ptr<const DiagonalParametrization>()>;

core::Registry<Factory>& registry() {
  static core::Registry<Factory> r({{"signed", [] { return std::make_shared<const SignedWeights>(); }},
                                    {"positive", [] { return std::make_shared<const PositiveWeights>(); }}});
  return r;
}

}  // namespace

std::shared_ptr<const DiagonalParametrization> diagonal_parametrization(const std::string& name) {
  const auto factory = registry().find(name);
  if (!factory) {
    throw ConfigError(fmt::format("parametrization '{}' is not known: use one of {} (or register your own)", name,
                                  fmt::join(registry().kinds(), ", ")));
  }
  return factory();
}

void register_parametrization(std::shared_ptr<const DiagonalParametrization> parametrization) {
  if (!parametrization) throw Error("register_parametrization: null parametrization");
  const auto name = parametrization->name();
  registry().add(name, [p = std::move(parametrization)] { return p; });
}

std::vector<std::string> parametrization_names() { return registry().kinds(); }

}  // namespace regula::models
