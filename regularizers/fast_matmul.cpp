#include "regularizers/fast_matmul.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>

namespace regula::regularizers::detail {

namespace {

std::atomic<bool> g_onednn{[] {
  const char* env = std::getenv("REGULA_ONEDNN_MATMUL");
  return env == nullptr || std::strcmp(env, "0") != 0;
}()};

// mkldnn::_linear_pointwise(Tensor X, Tensor W, Tensor? B, str attr, Scalar?[] scalars, str? algorithm):
// X W^T + B with oneDNN; absent when LibTorch is built without it.
const std::optional<c10::OperatorHandle>& linear_pointwise() {
  static const auto op = [] {
    std::optional<c10::OperatorHandle> handle;
    if (at::hasMKLDNN()) handle = c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""});
    return handle;
  }();
  return op;
}

}  // namespace

bool onednn_matmul() { return g_onednn; }
void set_onednn_matmul(bool enabled) { g_onednn = enabled; }

torch::Tensor matmul(const torch::Tensor& X, const torch::Tensor& Y) {
  // A transposed X (a weight gradient X^T Y) stays with MKL, which reads it in place; the oneDNN
  // op would copy it first.
  if (g_onednn && X.device().is_cpu() && X.scalar_type() == torch::kFloat32 && Y.scalar_type() == torch::kFloat32 &&
      X.is_contiguous() && X.size(0) > 0 && Y.size(1) > 0 && X.size(1) > 0) {
    if (const auto& op = linear_pointwise()) {
      std::vector<c10::IValue> stack = {X, Y.t(), c10::IValue(), c10::IValue(std::string("none")),
                                        c10::IValue(c10::List<std::optional<c10::Scalar>>()), c10::IValue()};
      op->callBoxed(&stack);
      return stack[0].toTensor();
    }
  }
  return torch::mm(X, Y);
}

}  // namespace regula::regularizers::detail
