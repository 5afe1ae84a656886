// Example: train a module of your own with k-TV, named in YAML.
//
//   1. Write a torch module (XxxImpl + TORCH_MODULE) with forward(Tensor [n, d]) -> Tensor [n, p].
//   2. Register a factory that reads its options from the `model:` section.
//   3. List this file in examples/CMakeLists.txt (it is linked into `regula` and the tests).
//   4. regula train model.kind=residual_mlp model.width=64 model.blocks=2 regularizer.kind=ktv ...
//
// Models other than MLPs get k-TV through the nested-autograd engine (any module works).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include "models/mlp.h"
#include "models/registry.h"

namespace regula::examples {

/// A residual tanh network: h_0 = W_in x, h_{i+1} = h_i + \tanh(W_i h_i + b_i), f = W_out h_B.
class ResidualMLPImpl : public torch::nn::Module {
 public:
  ResidualMLPImpl(int64_t in, int64_t out, int64_t width, int64_t blocks)
      : input_(register_module("input", torch::nn::Linear(in, width))),
        output_(register_module("output", torch::nn::Linear(width, out))) {
    for (int64_t i = 0; i < blocks; ++i) blocks_->push_back(torch::nn::Linear(width, width));
    register_module("blocks", blocks_);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = input_->forward(x);
    for (const auto& block : *blocks_) h = h + torch::tanh(block->as<torch::nn::Linear>()->forward(h));
    return output_->forward(h);
  }

 private:
  torch::nn::Linear input_, output_;
  torch::nn::ModuleList blocks_;
};
TORCH_MODULE(ResidualMLP);

namespace {
models::Model make_residual_mlp(core::Section s, int64_t input_dim, int64_t output_dim) {
  const auto width = s.get<int64_t>("width", 64);
  const auto blocks = s.get<int64_t>("blocks", 2);
  s.check(width >= 1, "width", "must be >= 1");
  s.check(blocks >= 0, "blocks", "must be >= 0");
  return models::as_model(ResidualMLP(input_dim, output_dim, width, blocks), "residual_mlp");
}
}  // namespace

REGULA_REGISTER_MODEL(residual_mlp, make_residual_mlp);

}  // namespace regula::examples
