// Example: a regularizer of your own, named in YAML.
//
//   1. Derive from regularizers::Regularizer: name(), optionally setup(), and penalty() returning
//      a 0-dim device tensor (times its weight) that is differentiable in the parameters.
//   2. Register a factory reading its options from the `regularizer:` section.
//   3. List this file in examples/CMakeLists.txt.
//   4. regula train regularizer.kind=l2_to_init regularizer.weight=1e-3
#include <torch/nn/module.h>

#include "regularizers/regularizer.h"

namespace regula::examples {

/// L2-SP: \lambda \sum_i \|\theta_i - \theta_i^{(0)}\|^2, pulling the weights toward their
/// values at the start of training (recorded in setup()).
class L2ToInit : public regularizers::Regularizer {
 public:
  explicit L2ToInit(double weight) : weight_(weight) {}
  std::string name() const override { return "l2_to_init"; }
  void setup(const models::Model& model, const torch::Tensor&) override {
    start_.clear();
    for (const auto& p : model.module->parameters()) start_.push_back(p.detach().clone());
  }
  torch::Tensor penalty(const models::Model& model) override {
    const auto params = model.module->parameters();
    torch::Tensor total = torch::zeros({}, params.front().options());
    for (std::size_t i = 0; i < params.size(); ++i) total = total + (params[i] - start_.at(i)).pow(2).sum();
    return weight_ * total;
  }

 private:
  double weight_;
  std::vector<torch::Tensor> start_;
};

namespace {
const bool registered = [] {
  regularizers::register_regularizer("l2_to_init", [](core::Section s) {
    const auto weight = s.get<double>("weight", 1e-3);
    s.check(weight >= 0, "weight", "must be >= 0");
    return std::make_shared<L2ToInit>(weight);
  });
  return true;
}();
}  // namespace

}  // namespace regula::examples
