#pragma once
/// \file Input-derivative engines: pure k-th partials d^k f_o / dx_j^k of a model at many points.
///
/// Both engines return D[m, s, o] = \partial^k f_o / \partial x_{c_s}^k (z_m) for points z [M, d],
/// coordinates c [S] (int64 on the points' device) and order k >= 1, differentiable w.r.t. the
/// parameters, with fixed shapes and no host syncs:
///  * **autograd** (reference, any Model): the points are replicated once per coordinate (block s
///    holds z with direction c_s); k times, torch::autograd::grad(create_graph=true) of the sum of
///    the current derivative, then the c_s-th component of the gradient is kept in block s.
///    Summing over points before grad is exact because points do not interact.  Cost grows about
///    3x per order.
///  * **taylor** (MLP or Sequential of Linear + tanh/sigmoid/softplus/sin/silu/gelu/relu): the
///    normalised Taylor coefficients x_0..x_k of x(t) = z + t e_{c_s} go through every layer at
///    once as one stack [1 + k S, M, width] (x_0 = z is shared by the S directions): one matmul
///    per Linear for all coefficients, points and directions (bias on x_0 only), one fused
///    O(k^2) recurrence node per activation (see taylor_series.h); then
///    \partial^k f / \partial x_j^k = k! y_k.  Parameter gradients come from one ordinary backward.
///    Cost grows about quadratically in k.
///  * **reverse** (k = 1 only, the same models as taylor): one hand-written input-gradient
///    backward gives df/dz for all d coordinates at once (the requested ones are kept), inside a
///    single autograd node whose backward is the second reverse sweep ("double backprop") for the
///    parameter gradients (see reverse_engine.cpp): 6 products of M rows per hidden Linear against
///    9 for Taylor mode with S = 2.  First-order backward only (no create_graph through it).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "models/model.h"
#include "regularizers/taylor_series.h"

namespace regula::regularizers {

/// Which derivative engine computes the input derivatives.
enum class Engine { kAuto, kTaylor, kReverse, kAutograd };

/// "auto" | "taylor" | "reverse" | "autograd".
std::string engine_name(Engine engine);
/// How logs name an engine: "Taylor-mode", "reverse-mode", "nested-autograd".
std::string engine_description(Engine engine);
/// Parses an engine name; ConfigError naming `key` otherwise.
Engine parse_engine(const std::string& name, const std::string& key = "engine");

/// One layer of a Taylor-mode plan: a Linear y = x W^T + b, or an elementwise activation.
/// The tensors are the parameters themselves (shared, not copies), so gradients reach them.
struct TaylorLayer {
  torch::Tensor weight;  ///< [out, in]; defined exactly for a Linear layer
  torch::Tensor bias;    ///< [out], or undefined for a Linear without bias
  taylor::Activation activation = taylor::Activation::kTanh;
  taylor::ActivationParams params;
  bool is_linear() const { return weight.defined(); }
};

/// The layer sequence the Taylor engine walks, read from a Model's module.
struct TaylorPlan {
  std::vector<TaylorLayer> layers;
  int64_t input_dim = 0;
  /// Empty when supported; otherwise why the module cannot be handled (for the log).
  std::string unsupported;
  bool supported() const { return unsupported.empty(); }
};

/// Reads the plan of an MLP, or of a torch::nn::Sequential of Linear and supported activations.
TaylorPlan taylor_plan(const models::Model& model);

/// Checks a plan built by hand (e.g. from tensors handed to the PyTorch op): every Linear's
/// input width matches the width before it, and there is at least one Linear.  Sets input_dim
/// and returns the plan with `unsupported` saying what is wrong, if anything.
TaylorPlan checked_plan(std::vector<TaylorLayer> layers);

/// Taylor-mode pure partials D [M, S, p] (see the file comment).
torch::Tensor pure_partials_taylor(const TaylorPlan& plan, const torch::Tensor& points,
                                   const torch::Tensor& coords, int64_t order);
/// The raw Taylor stack Y [1 + k S, M, p] of the model along x(t) = z + t v_s for the rows v_s of
/// `directions` [S, d]: slab 0 = f(z), slab 1 + (j-1) S + s = y_j with D_{v_s}^j f(z) = j! y_j
/// (the j-th directional derivative, j = 1..k).  Mixed partials are linear combinations of these
/// (see partials.h).
torch::Tensor directional_taylor(const TaylorPlan& plan, const torch::Tensor& points,
                                 const torch::Tensor& directions, int64_t order);
/// The plan's plain forward [M, p] (order 0), used to check that it matches model.forward.
torch::Tensor taylor_forward(const TaylorPlan& plan, const torch::Tensor& points);

/// Reverse-mode first partials D [M, S, p] (order must be 1; see the file comment).
torch::Tensor pure_partials_reverse(const TaylorPlan& plan, const torch::Tensor& points,
                                    const torch::Tensor& coords, int64_t order = 1);

/// The fastest exact engine for a model with this plan at this order and `coordinates` (S)
/// directions: when the plan is supported, Taylor mode at k >= 2, and at k = 1 reverse mode
/// unless the model has many outputs p: per hidden Linear reverse mode multiplies about
/// (2 + 3p) M rows (its input gradient has p slabs) and Taylor mode 3 (1 + S) M.  Nested
/// autograd when the plan is not supported.
Engine fastest_engine(const TaylorPlan& plan, int64_t order, int64_t coordinates);

/// An engine choice and why it was made (for the one log line a run writes about it).
struct EngineChoice {
  Engine engine = Engine::kAutograd;
  std::string reason;
};

/// The engine a regularizer or loss named `who` ("k-TV", "PDE residual") runs for `model`: the
/// requested one, checked (Taylor and reverse mode need a supported plan whose forward equals
/// model.forward; reverse needs order 1 and `allow_reverse`), or with kAuto fastest_engine()
/// for `order` and `directions`, falling back to nested autograd for models Taylor mode cannot
/// handle.  A ConfigError naming `who`, the model and the fix when the requested engine cannot run.
EngineChoice resolve_engine(const models::Model& model, Engine requested, int64_t order, int64_t directions,
                            const std::string& who, bool allow_reverse = true);

/// The outputs p of a supported plan (its last Linear's width).
int64_t plan_outputs(const TaylorPlan& plan);

/// The weight (and bias, where defined) of every Linear of the plan, in order: the parameters
/// that the engines' autograd nodes take and return gradients for.
std::vector<torch::Tensor> plan_parameters(const TaylorPlan& plan);

/// Nested-autograd pure partials D [M, S, p] (see the file comment).
torch::Tensor pure_partials_autograd(const models::Model& model, const torch::Tensor& points,
                                     const torch::Tensor& coords, int64_t order);

/// Pure partials with the given engine; kAuto takes fastest_engine().  ConfigError when taylor or
/// reverse cannot handle the model, or reverse is asked for an order other than 1.
torch::Tensor pure_partials(const models::Model& model, const torch::Tensor& points,
                            const torch::Tensor& coords, int64_t order, Engine engine);

}  // namespace regula::regularizers
