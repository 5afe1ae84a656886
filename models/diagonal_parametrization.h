#pragma once
/// \file How the weight of a depth-N diagonal network is made of its factors:
/// the one place that knows the form of w(u, v).  Built in:
///
///   "signed"    w = u^N - v^N   (u_0 = v_0 = \alpha; w of any sign),
///   "positive"  w = u^N         (u_0 = \alpha; w >= 0, e.g. images).
///
/// The model (DiagonalLinear), the GD step (trainers/sparse/gd.h), the batched
/// engine and the baselines ask the parametrization for the weight, the
/// factors' derivatives and the sign constraint.  A new parametrization is one
/// file: a subclass and a `register_parametrization` call (or
/// REGULA_REGISTER_PARAMETRIZATION); `model.parametrization: NAME` then uses it.
/// The fused CPU kernel (trainers/sparse/gd_kernels.h) serves the built-in
/// forms; others run the step as tensor operations on every device.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace regula::models {

/// The weight of a diagonal network as an elementwise function of its factors.
class DiagonalParametrization {
 public:
  virtual ~DiagonalParametrization() = default;
  /// The name it is registered and named in YAML by.
  virtual std::string name() const = 0;
  /// Whether the weight has a second factor v (undefined tensors otherwise).
  virtual bool has_v() const = 0;
  /// Whether w >= 0 always (baselines are then constrained alike).
  virtual bool nonnegative() const = 0;
  /// The weight and its derivatives with respect to the factors, divided by the depth N:
  /// for w = u^N - v^N, du = u^{N-1} and dv = -v^{N-1}.  `pow_n1(x)` is x^{N-1} with the
  /// depth of each configuration (N may differ along the batch dimensions).  The GD step on
  /// the loss L is then u <- u - \eta N du \odot \nabla_w L (and likewise v).  Differentiable
  /// in u and v, so autograd gives the same gradients.
  struct Parts {
    torch::Tensor w, du, dv;
  };
  virtual Parts parts(const torch::Tensor& u, const torch::Tensor& v,
                      const std::function<torch::Tensor(const torch::Tensor&)>& pow_n1) const = 0;
  /// The weight alone (by default from `parts`).
  virtual torch::Tensor weight(const torch::Tensor& u, const torch::Tensor& v,
                               const std::function<torch::Tensor(const torch::Tensor&)>& pow_n1) const {
    return parts(u, v, pow_n1).w;
  }
};

/// The parametrization registered as `name`; a ConfigError that lists the known ones otherwise.
std::shared_ptr<const DiagonalParametrization> diagonal_parametrization(const std::string& name);

/// Registers (or replaces) a parametrization under its name().
void register_parametrization(std::shared_ptr<const DiagonalParametrization> parametrization);

/// The registered names, sorted.
std::vector<std::string> parametrization_names();

}  // namespace regula::models

/// Registers a parametrization at program start: REGULA_REGISTER_PARAMETRIZATION(MyParametrization).
#define REGULA_REGISTER_PARAMETRIZATION(Type)                                                         \
  static const bool regula_registered_parametrization_##Type = [] {                                  \
    ::regula::models::register_parametrization(std::make_shared<const Type>());                      \
    return true;                                                                                      \
  }()
