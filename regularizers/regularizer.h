#pragma once
/// \file The Regularizer interface and the registry of regularizer kinds ("ktv", "l1", "l2", and
/// whatever a user registers).
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/config.h"
#include "models/model.h"

namespace regula::regularizers {

/// A penalty added to the data loss.
class Regularizer {
 public:
  virtual ~Regularizer() = default;
  /// "ktv", "l2", "l1", or a user's name.
  virtual std::string name() const = 0;
  /// Called once before training with the training inputs [n, d] (k-TV may take its domain,
  /// the bounding box of the inputs, from them) and the model (k-TV picks its engine here and
  /// logs once if it falls back to autograd).
  virtual void setup(const models::Model& model, const torch::Tensor& train_inputs) {}
  /// The weighted penalty (already times its lambda): a 0-dim tensor on the model's device,
  /// differentiable w.r.t. the parameters.  No host syncs.  k-TV draws fresh points each call
  /// from the default generator of the model's device.
  virtual torch::Tensor penalty(const models::Model& model) = 0;
  /// The named parts of the last penalty() (e.g. a physics loss's PDE residual and boundary
  /// terms, unweighted), as detached 0-dim device tensors; trainers average them between
  /// evaluations and log them as metrics.  None by default.
  virtual std::vector<std::pair<std::string, torch::Tensor>> last_terms() const { return {}; }
};

/// Builds a regularizer from a config section such as {kind: ktv, order: 2, power: 2, weight: 1e-3,
/// samples: 256, domain: [[0, 6.28], [0, 6.28]] or "data", padding: 0.0, coordinates: 0 (all),
/// engine: auto|taylor|autograd} or {kind: l2, weight: 1e-2} / {kind: l1, weight: ...}.
/// Unknown kinds are ConfigErrors listing the registered ones.
std::shared_ptr<Regularizer> make_regularizer(core::Section section);

/// Makes a regularizer kind from its config section (the section also holds `kind`).
using RegularizerFactory = std::function<std::shared_ptr<Regularizer>(core::Section)>;
/// Registers a user regularizer kind (see examples/); registering a known kind replaces it.
void register_regularizer(const std::string& kind, RegularizerFactory factory);
/// The registered kinds, sorted.
std::vector<std::string> registered_regularizers();

}  // namespace regula::regularizers
