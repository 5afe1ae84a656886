#pragma once
/// \file L1 and L2 parameter penalties (baselines for k-TV).
#include <string>

#include "core/options.h"
#include "regularizers/regularizer.h"

namespace regula::regularizers {

/// Options of the L1 and L2 parameter penalties.
struct ParameterNormOptions {
  /// lambda: the penalty is multiplied by it.
  REGULA_ARG(double, weight) = 1e-3;
  /// Whether biases (parameters whose name ends in "bias") are penalised too.
  REGULA_ARG(bool, bias) = true;
};

/// L2 (ridge / weight decay): \lambda \sum_i w_i^2 over the parameters (no 1/2 factor).
class L2Penalty : public Regularizer {
 public:
  explicit L2Penalty(ParameterNormOptions options = {});
  std::string name() const override { return "l2"; }
  torch::Tensor penalty(const models::Model& model) override;
  const ParameterNormOptions& options() const { return options_; }

 private:
  ParameterNormOptions options_;
};

/// L1 (lasso): \lambda \sum_i |w_i| over the parameters; its gradient is \lambda sign(w_i).
class L1Penalty : public Regularizer {
 public:
  explicit L1Penalty(ParameterNormOptions options = {});
  std::string name() const override { return "l1"; }
  torch::Tensor penalty(const models::Model& model) override;
  const ParameterNormOptions& options() const { return options_; }

 private:
  ParameterNormOptions options_;
};

/// Reads {weight, bias} from a config section (ConfigError for a negative weight).
ParameterNormOptions parameter_norm_options(core::Section& section);

}  // namespace regula::regularizers
