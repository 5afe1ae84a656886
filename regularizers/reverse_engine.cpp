// The reverse-mode engine for first derivatives (k = 1) of a Linear/activation sequence: one
// input-gradient backward gives every coordinate, and the parameter gradient of a function of it
// is one more hand-written sweep ("double backprop") inside a single autograd node.
//
// Forward of the node, for the plan's layers (u = a W^T + b, a = g(u)) at points z [M, d]:
//   forward pass     a_0 = z, ..., keeping a (the Linear inputs), g'(u) and g''(u)
//                    (taylor::activation_derivatives: one fused per-element loop per activation);
//   input gradient   G = df/dz [p, M, d] by the backward recurrence, started from the identity
//                    of the p outputs: through a Linear G <- G W, through an activation
//                    G <- G (.) g'(u); each layer's incoming G (g_out) is kept.
// Backward of the node, given Gbar = dPhi/dG (the requested coordinates of dPhi/dD):
//   adjoint sweep    the transpose of the input-gradient recurrence, first layer to last:
//                    through a Linear  Wbar += g_out^T Gbar,  Gbar <- Gbar W^T;
//                    through an activation  ubar = sum_o Gbar (.) g_out (.) g''(u),  Gbar <- Gbar (.) g'(u);
//   forward adjoint  ubar (and abar) back through the forward pass, last activation to first:
//                    ubar += abar (.) g'(u);  Wbar += ubar^T a,  bbar = sum_m ubar,  abar = ubar W.
// Per hidden Linear that is 6 products of M rows (forward, input gradient, 4 in backward),
// against 9 for Taylor mode at k = 1 with S = 2 directions.  The points' gradient (abar at the
// input) is returned when the points require it; the backward is first order only.
#include <torch/autograd.h>

#include "core/errors.h"
#include "regularizers/derivatives.h"
#include "core/matmul.h"

namespace regula::regularizers {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A stack [p, rows, n] times a matrix [n, q]: one product of p rows rows.
torch::Tensor stack_times(const torch::Tensor& G, const torch::Tensor& W) {
  return core::matmul(G.reshape({-1, G.size(2)}), W).view({G.size(0), G.size(1), W.size(1)});
}

// A layer as the node's context keeps it.
enum LayerKind : int64_t { kLinear = 0, kLinearWithBias = 1, kActivation = 2 };

struct FirstOrderReverse : public torch::autograd::Function<FirstOrderReverse> {
  // params: the weight (and bias, when defined) of every Linear of the plan, in order.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& points, const torch::Tensor& coords,
                               at::TensorList params, const TaylorPlan* plan) {
    const auto& layers = plan->layers;
    const int64_t L = static_cast<int64_t>(layers.size()), M = points.size(0), d = points.size(1);
    std::vector<int64_t> kinds(L);
    std::vector<torch::Tensor> W(L), B(L);
    int64_t last_activation = -1, p = d;
    for (int64_t i = 0, next = 0; i < L; ++i) {
      if (layers[i].is_linear()) {
        W[i] = params[next++];
        if (layers[i].bias.defined()) B[i] = params[next++];
        kinds[i] = B[i].defined() ? kLinearWithBias : kLinear;
        p = W[i].size(0);
      } else {
        kinds[i] = kActivation;
        last_activation = i;
      }
    }
    // Forward pass up to the last activation (later Linears only matter through their weights).
    // A Linear's bias is added inside the activation that follows it.
    std::vector<torch::Tensor> inputs(L), first(L), second(L), g_out(L);
    torch::Tensor h = points, pending_bias;
    for (int64_t i = 0; i <= last_activation; ++i) {
      if (kinds[i] == kActivation) {
        std::tie(h, first[i], second[i]) =
            taylor::activation_derivatives(h, pending_bias, layers[i].activation, layers[i].params);
        pending_bias = torch::Tensor();
      } else {
        if (pending_bias.defined()) h = h + pending_bias;
        inputs[i] = h;
        h = core::matmul(h, W[i].t());
        pending_bias = B[i];
      }
    }
    // Input gradient of every output: [p, 1, p] (constant over the points) until an activation.
    torch::Tensor g = torch::eye(p, points.options()).unsqueeze(1);
    for (int64_t i = L - 1; i >= 0; --i) {
      g_out[i] = g;
      g = kinds[i] == kActivation ? g * first[i] : stack_times(g, W[i]);
    }
    // D[m, s, o] = G[o, m, c_s]
    const auto D = g.expand({p, M, d}).index_select(2, coords).permute({1, 2, 0}).contiguous();

    std::vector<torch::Tensor> saved = {coords};
    for (int64_t i = 0; i < L; ++i) {
      if (kinds[i] == kActivation) {
        saved.insert(saved.end(), {first[i], second[i], g_out[i]});
      } else {
        saved.insert(saved.end(), {W[i], inputs[i], g_out[i]});
      }
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["kinds"] = kinds;
    ctx->saved_data["points"] = std::vector<int64_t>{M, d};
    return D;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "the reverse k-TV engine has a first-order backward only (no create_graph); use engine autograd "
                "for higher derivatives of the penalty");
    const auto saved = ctx->get_saved_variables();
    const auto kinds = ctx->saved_data["kinds"].toIntVector();
    const auto shape = ctx->saved_data["points"].toIntVector();
    const int64_t L = static_cast<int64_t>(kinds.size()), M = shape[0], d = shape[1];
    const auto& coords = saved[0];
    auto at = [&](int64_t i, int64_t slot) -> const torch::Tensor& { return saved[1 + 3 * i + slot]; };
    int64_t last_activation = -1;
    for (int64_t i = 0; i < L; ++i) {
      if (kinds[i] == kActivation) last_activation = i;
    }
    const auto dD = grads[0];  // [M, S, p]
    const int64_t p = dD.size(2);
    auto gbar = torch::zeros({p, M, d}, dD.options()).index_add_(2, coords, dD.permute({2, 0, 1}));

    // Adjoint of the input-gradient recurrence, first layer to last.
    std::vector<torch::Tensor> Wbar(L), bbar(L), ubar(L);
    for (int64_t i = 0; i < L; ++i) {
      const auto& go = at(i, 2);
      if (kinds[i] == kActivation) {
        ubar[i] = (p == 1 ? gbar[0] * go[0] : (gbar * go).sum(0)).mul_(at(i, 1));
        gbar.mul_(at(i, 0));  // gbar is this sweep's own tensor
      } else {
        const auto& Wi = at(i, 0);
        const int64_t out = Wi.size(0), in = Wi.size(1);
        Wbar[i] = go.size(1) == 1 ? go.squeeze(1).t().mm(gbar.sum(1))  // g_out constant over the points
                                  : core::matmul(go.reshape({-1, out}).t(), gbar.reshape({-1, in}));
        if (i + 1 < L) gbar = stack_times(gbar, Wi.t());
      }
    }
    // ubar back through the forward pass, last activation to first.
    const bool points_grad = ctx->needs_input_grad(0);
    torch::Tensor cur;  // adjoint of the current layer's output
    for (int64_t i = last_activation; i >= 0; --i) {
      if (kinds[i] == kActivation) {
        cur = cur.defined() ? ubar[i].addcmul_(cur, at(i, 0)) : ubar[i];
      } else {
        Wbar[i].add_(core::matmul(cur.t(), at(i, 1)));
        if (kinds[i] == kLinearWithBias) bbar[i] = cur.sum(0);
        cur = (i > 0 || points_grad) ? core::matmul(cur, at(i, 0)) : torch::Tensor();
      }
    }
    variable_list out = {points_grad ? (cur.defined() ? cur : torch::zeros({M, d}, dD.options())) : torch::Tensor(),
                         torch::Tensor()};
    for (int64_t i = 0; i < L; ++i) {
      if (kinds[i] == kActivation) continue;
      out.push_back(Wbar[i]);
      if (kinds[i] == kLinearWithBias) out.push_back(bbar[i]);
    }
    out.push_back(torch::Tensor());  // the plan
    return out;
  }
};

}  // namespace

torch::Tensor pure_partials_reverse(const TaylorPlan& plan, const torch::Tensor& points, const torch::Tensor& coords,
                                    int64_t order) {
  TORCH_CHECK(plan.supported(), "reverse mode unsupported: ", plan.unsupported);
  TORCH_CHECK(order == 1, "the reverse engine computes first derivatives only (order 1), got order ", order,
              "; use the taylor or autograd engine");
  const auto params = plan_parameters(plan);
  return FirstOrderReverse::apply(points, coords, at::TensorList(params), &plan);
}

}  // namespace regula::regularizers
