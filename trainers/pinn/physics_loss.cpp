#include "trainers/pinn/physics_loss.h"

#include <fmt/format.h>

#include "core/errors.h"
#include "core/logging.h"

namespace regula::pinn {
namespace {

using regularizers::Engine;
using regularizers::MultiIndex;
using regularizers::PartialsScheme;

}  // namespace

PartialsScheme residual_scheme(const Pde& pde, bool with_laplacian) {
  std::vector<MultiIndex> out;
  for (const auto& t : pde.terms) out.push_back(parse_term(t, pde.coordinates));
  if (pde.laplacian && with_laplacian) {
    for (int64_t j = 0; j < pde.dim(); ++j) {
      MultiIndex second(static_cast<std::size_t>(pde.dim()), 0);
      second[static_cast<std::size_t>(j)] = 2;
      out.push_back(second);
    }
  }
  return PartialsScheme(out, pde.dim());
}

models::Model solution_model(const Pde& pde) {
  if (!pde.solution) throw ConfigError(fmt::format("PDE '{}' has no solution", pde.name));
  models::Model m;
  m.name = pde.name + " solution";
  m.module = std::make_shared<torch::nn::Module>();
  m.forward = pde.solution;
  return m;
}

Fields pde_fields(const Pde& pde, const models::Model& model, const torch::Tensor& x, const PartialsScheme& scheme,
                  Engine engine, const torch::Tensor& laplacian_coords) {
  const auto P = regularizers::partials(model, x, scheme, engine);
  const int64_t terms = static_cast<int64_t>(pde.terms.size()), d = x.size(1);
  torch::Tensor laplacian;
  if (pde.laplacian && !laplacian_coords.defined() && P.D.size(1) == terms + d) {
    laplacian = P.D.narrow(1, terms, d).sum(1);  // every u_{x_j x_j} came with the terms (residual_scheme)
  } else if (pde.laplacian) {  // on sampled coordinates (or all, when the scheme lacks them)
    const auto coords = laplacian_coords.defined() ? laplacian_coords : regularizers::sample_coordinates(d, 0, x.device());
    const auto D2 = regularizers::pure_partials(model, x, coords, 2, engine);  // [M, S, p]
    laplacian = D2.sum(1) * (static_cast<double>(d) / static_cast<double>(coords.size(0)));
  }
  return Fields(x, P.u, pde.terms, P.D.narrow(1, 0, terms), laplacian);
}

torch::Tensor pde_residual(const Pde& pde, const models::Model& model, const torch::Tensor& x, Engine engine) {
  const auto r = pde.residual(pde_fields(pde, model, x, residual_scheme(pde, /*with_laplacian=*/true), engine));
  TORCH_CHECK(r.dim() == 2 && r.size(0) == x.size(0), "PDE '", pde.name, "': the residual must be [M, p], got ",
              r.sizes());
  return r;
}

torch::Tensor condition_misfit(const Pde& pde, const Condition& c, const models::Model& model, const torch::Tensor& y,
                               Engine engine) {
  const auto alpha = parse_term(c.term, pde.coordinates);
  const auto value = [&](const models::Model& m, Engine e) {
    if (regularizers::order_of(alpha) == 0) return m.forward(y);
    return regularizers::partials(m, y, PartialsScheme({alpha}, pde.dim()), e).D.select(1, 0);
  };
  torch::Tensor target;
  if (c.target) {
    target = c.target(y);
  } else {
    target = value(solution_model(pde), Engine::kAutograd).detach();
  }
  return value(model, engine) - target;
}

PhysicsLoss::PhysicsLoss(Pde pde, PhysicsOptions options)
    : pde_(std::move(pde)), options_(std::move(options)), scheme_(residual_scheme(pde_, /*with_laplacian=*/options_.coordinates() == 0)),
      sampler_(pde_.domain) {
  validate(pde_);
  const auto bad = [](const std::string& key, int64_t v, const char* valid) {
    return ConfigError(fmt::format("physics.{} = {} is not valid: {}", key, v, valid));
  };
  if (options_.collocation() < 1) throw bad("collocation", options_.collocation(), "must be >= 1");
  if (options_.boundary() < 1) throw bad("boundary", options_.boundary(), "must be >= 1");
  if (options_.coordinates() < 0) throw bad("coordinates", options_.coordinates(), "must be 0 (all) or a count >= 1");
  for (const auto& [term, w] : options_.weights()) {
    bool known = term == "residual";
    for (const auto& c : pde_.conditions) known = known || c.name == term;
    if (!known || !(w >= 0)) {
      throw ConfigError(fmt::format("physics.weights.{} = {}: weights are >= 0 and name 'residual' or a condition of "
                                    "PDE '{}'", term, w, pde_.name));
    }
  }
}

void PhysicsLoss::setup(const models::Model& model, const torch::Tensor&) {
  const auto plan = regularizers::taylor_plan(model);
  if (plan.supported() && plan.input_dim != pde_.dim()) {
    throw ConfigError(fmt::format("the model takes {} inputs but PDE '{}' has {} coordinates ({})", plan.input_dim,
                                  pde_.name, pde_.dim(), fmt::join(pde_.coordinates, ", ")));
  }
  int64_t order = 0;
  for (const auto& t : pde_.terms) order = std::max(order, regularizers::order_of(parse_term(t, pde_.coordinates)));
  if (pde_.laplacian) order = std::max<int64_t>(order, 2);
  // With every coordinate the Laplacian's directions are in scheme_; sampled ones come on top.
  const int64_t laplacian_directions = pde_.laplacian && options_.coordinates() > 0 ? options_.coordinates() : 0;
  const int64_t directions = scheme_.directions().size(0) + laplacian_directions;
  const auto choice = regularizers::resolve_engine(model, options_.engine(), std::max<int64_t>(order, 1), directions,
                                                   "PDE residual", /*allow_reverse=*/false);
  engine_ = choice.engine;
  engine_reason_ = choice.reason;
  core::log_info("PDE {}: {} engine ({}); residual of order {} from {} direction(s) per point{}", pde_.name,
                 regularizers::engine_description(engine_), engine_reason_, order, directions,
                 pde_.laplacian && options_.coordinates() > 0
                     ? fmt::format(" (the Laplacian on {} of {} coordinates per step)", options_.coordinates(), pde_.dim())
                     : std::string());
}

torch::Tensor PhysicsLoss::penalty(const models::Model& model) {
  if (engine_ == Engine::kAuto) setup(model, {});
  const auto popts = models::parameter_options(model);
  const auto x = sampler_.uniform(options_.collocation(), popts);
  const auto coords = pde_.laplacian && options_.coordinates() > 0
                          ? regularizers::sample_coordinates(pde_.dim(), options_.coordinates(), popts.device())
                          : torch::Tensor();
  const auto r = pde_.residual(pde_fields(pde_, model, x, scheme_, engine_, coords));
  last_terms_.clear();
  const auto residual_loss = r.square().mean();
  auto total = residual_loss * options_.weight_of("residual");
  last_terms_.emplace_back("loss_residual", residual_loss.detach());
  for (const auto& c : pde_.conditions) {
    const auto y = sampler_.on_faces(c.faces, options_.boundary(), popts);
    const auto loss = condition_misfit(pde_, c, model, y, engine_).square().mean();
    total = total + loss * options_.weight_of(c.name);
    last_terms_.emplace_back("loss_" + c.name, loss.detach());
  }
  return total;
}

}  // namespace regula::pinn
