#pragma once
/// \file The k-th order total variation penalty (k-TV, more generally the (k,q)-variation).
///
/// For f: R^d -> R^p on a box \Omega,
///   C_{k,q}(f) = \sum_{o=1}^p \sum_{j=1}^d \int_\Omega |\partial^k f_o(x) / \partial x_j^k|^q dx,
/// estimated without quadrature from M points z_m drawn uniformly in \Omega afresh each step:
///   \hat C = vol(\Omega) (1/M) \sum_m (d/|S|) \sum_{j \in S} \sum_o |\partial^k_j f_o(z_m)|^q,
/// where S is the set of coordinates used this step (all d by default; with coordinate
/// subsampling |S| distinct coordinates drawn at random, so E[(d/|S|) \sum_{j\in S} a_j] =
/// \sum_j a_j).  \hat C and its parameter gradient are unbiased for C_{k,q} and its gradient.
/// The penalty added to the loss is \lambda \hat C.
///
/// Normalisation: this is the integral itself (volume factor included, sum over coordinates
/// and outputs).  Implementations of the method (Okuno, arXiv 2308.02293) differ: a common
/// choice is the plain sample mean of the derivative term, i.e. without vol(\Omega) (equal to
/// ours on the unit cube, off by a factor vol(\Omega) elsewhere, e.g. (2\pi)^2 ~ 39.5 on
/// [0, 2\pi]^2), and some codes average over coordinates instead of summing (a factor 1/d).  To
/// reproduce a lambda from such a code, divide it by vol(\Omega) (and multiply by d for the latter).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/options.h"
#include "models/model.h"
#include "regularizers/box.h"
#include "regularizers/derivatives.h"
#include "regularizers/regularizer.h"

namespace regula::regularizers {

/// Options of k-TV: `KTVOptions(2).power(2).weight(1e-3).samples(256).domain(lo, hi)`.
struct KTVOptions {
  explicit KTVOptions(int64_t order = 2) : order_(order) {}
  /// k >= 1: the order of the pure partial derivatives.
  REGULA_ARG(int64_t, order);
  /// q >= 1: the power of |d^k f|  (q = 2 is the original k-TV).
  REGULA_ARG(double, power) = 2.0;
  /// lambda >= 0: the penalty is lambda times the estimate.
  REGULA_ARG(double, weight) = 1e-3;
  /// M >= 1: points drawn per step.
  REGULA_ARG(int64_t, samples) = 256;
  /// Lower corner of \Omega (one entry per input coordinate, or one for all); empty = from data.
  REGULA_ARG(std::vector<double>, low);
  /// Upper corner of \Omega (same length as low).
  REGULA_ARG(std::vector<double>, high);
  /// With the domain from data: widen each side of the bounding box by this fraction of its
  /// length on both ends (0.1 on [0, 1] gives [-0.1, 1.1]).
  REGULA_ARG(double, padding) = 0.0;
  /// |S|: coordinates drawn per step (0 = all d, no subsampling).
  REGULA_ARG(int64_t, coordinates) = 0;
  /// Derivative engine: auto (the fastest exact one: reverse at order 1 and Taylor mode at
  /// order >= 2 when the model supports them, else autograd), taylor, reverse (order 1), autograd.
  REGULA_ARG(Engine, engine) = Engine::kAuto;

 public:
  /// \Omega = [lo_1, hi_1] x ... x [lo_d, hi_d].
  KTVOptions& domain(std::vector<double> lo, std::vector<double> hi) {
    low_ = std::move(lo);
    high_ = std::move(hi);
    return *this;
  }
  /// \Omega = [lo, hi]^d.
  KTVOptions& domain(double lo, double hi) { return domain(std::vector<double>{lo}, std::vector<double>{hi}); }
  /// \Omega = the bounding box of the training inputs, padded (the default).
  KTVOptions& domain_from_data(double padding = 0.0) {
    low_.clear();
    high_.clear();
    padding_ = padding;
    return *this;
  }
  bool uses_data_domain() const { return low_.empty() && high_.empty(); }
};

/// Throws a ConfigError naming the first invalid option (order, power, weight, samples, domain,
/// padding, coordinates, engine: reverse needs order 1).
void validate(const KTVOptions& options);

/// Reads k-TV options from a config section (keys: order, power, weight, samples, domain ("data",
/// [lo, hi] for every coordinate, or [[lo_1, hi_1], ...]), padding, coordinates, engine).
KTVOptions ktv_options(core::Section& section);

/// The estimate from the pure partials D [M, |S|, p] of a model with `dim` inputs on a domain of
/// volume `volume`: \lambda vol (1/M) \sum_m (dim/|S|) \sum_s \sum_o |D[m, s, o]|^q (q = power,
/// \lambda = weight).  Differentiable; no host syncs.
torch::Tensor ktv_from_partials(const torch::Tensor& D, int64_t dim, double volume, double power, double weight);

/// \lambda vol dim / |S|: the factor of (1/M) \sum_m \sum_{s, o} |D[m, s, o]|^q in the estimate
/// (ktv_from_partials, ktv_fused).
double ktv_scale(int64_t dim, int64_t coordinates, double volume, double weight);

/// The k-TV estimate in one fused CPU pass (regularizers/ktv_fused.cpp), with the partials of the
/// Taylor engine or (order 1) the reverse engine (kAuto: fastest_engine()): scale (1/M) \sum_m
/// \sum_s \sum_o |D[m, s, o]|^q for D = pure_partials_taylor / pure_partials_reverse (plan,
/// points, coords, order), i.e. ktv_from_partials with scale = \lambda vol dim / |S|.  The
/// forward, the penalty and the backward to the parameters run chunk by chunk of points on buffers
/// that stay in cache (each thread keeps its own, a few MB, for the next steps), one autograd node
/// in all.  The parameter gradients are computed with the value whenever grad mode is on and a
/// parameter requires grad (so evaluating the penalty for a log under grad mode costs about a
/// training step's penalty: use torch::NoGradGuard), and backward() scales them by the incoming
/// gradient; parameters that do not move a derivative (the last Linear's bias) get zeros.  First-
/// order backward only: a backward with create_graph is an error, as in the reverse engine.  An
/// undefined tensor when the pass does not apply (not a CPU float32/float64 plan, order >= 16,
/// reverse at an order other than 1, an unsupported plan, fused kernels switched off, points that
/// require grad, coordinates outside 0..d-1), and the caller takes the unfused path.
torch::Tensor ktv_fused(const TaylorPlan& plan, const torch::Tensor& points, const torch::Tensor& coords,
                        int64_t order, double power, double scale, Engine engine = Engine::kTaylor);

/// The pure functional core: \lambda \hat C for the given points [M, d] in `box` (explicit,
/// dimension d) and coordinates `coords` ([|S|] int64; undefined = all d).  Differentiable
/// w.r.t. the parameters; no host syncs.
torch::Tensor ktv_penalty(const models::Model& model, const torch::Tensor& points, const Box& box,
                          const KTVOptions& options, const torch::Tensor& coords = {});

/// The k-TV regularizer: owns its options, resolves the domain and the engine in setup(), and
/// draws fresh points (and coordinates) on every penalty() call.
class KTV : public Regularizer {
 public:
  explicit KTV(KTVOptions options);
  std::string name() const override { return "ktv"; }
  /// Resolves the domain (bounding box of `train_inputs` when the options ask for it) and the
  /// engine (logged once: which one and why).
  void setup(const models::Model& model, const torch::Tensor& train_inputs) override;
  /// \lambda \hat C at fresh uniform points (see the file comment).
  torch::Tensor penalty(const models::Model& model) override;

  const KTVOptions& options() const { return options_; }
  /// The domain in use (after setup, or from explicit options).
  const Box& box() const { return box_; }
  /// The engine in use (taylor, reverse or autograd once resolved; auto before).
  Engine engine() const { return engine_; }
  /// Why that engine was chosen (for logs and tests).
  const std::string& engine_reason() const { return engine_reason_; }
  /// M fresh uniform points of the domain [M, d] with the model's dtype and device.
  torch::Tensor sample_points(const torch::TensorOptions& options);

 private:
  void resolve_engine(const models::Model& model);
  void resolve_box(const models::Model& model, int64_t input_dim);

  KTVOptions options_;
  Box box_;
  Engine engine_ = Engine::kAuto;
  std::string engine_reason_;
  BoxSampler sampler_;  // draws in box_
};

}  // namespace regula::regularizers
