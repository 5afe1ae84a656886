#include "trainers/pinn/pdes.h"

#include <cmath>

#include <fmt/format.h>

namespace regula::pinn {
namespace {

constexpr double kPi = 3.14159265358979323846;

torch::Tensor col(const torch::Tensor& x, int64_t j) { return x.narrow(1, j, 1); }
torch::Tensor sinpi(const torch::Tensor& x) { return torch::sin(kPi * x); }
torch::Tensor zeros_at(const torch::Tensor& x) { return torch::zeros({x.size(0), 1}, x.options()); }
regularizers::Box box(std::vector<double> low, std::vector<double> high) { return {std::move(low), std::move(high)}; }

Pde poisson2d(core::Section) {
  Pde p;
  p.description = "-Δu = 2π² sin πx sin πy on [0,1]², u = 0 on the boundary";
  p.coordinates = {"x", "y"};
  p.domain = box({0, 0}, {1, 1});
  p.laplacian = true;
  p.solution = [](const torch::Tensor& x) { return sinpi(col(x, 0)) * sinpi(col(x, 1)); };
  p.residual = [sol = p.solution](const Fields& f) { return -f.laplacian() - 2 * kPi * kPi * sol(f.x()); };
  p.conditions = {{"boundary", faces_of({0, 1}), "u", zeros_at}};
  return p;
}

Pde heat(core::Section s) {
  const double kappa = s.get<double>("kappa", 0.1);
  s.check(kappa > 0, "kappa", "the diffusivity must be > 0");
  Pde p;
  p.description = fmt::format("u_t = {} u_xx on [0,1] x [0,1], u = 0 at x = 0, 1, u(x,0) = sin πx", kappa);
  p.coordinates = {"x", "t"};
  p.domain = box({0, 0}, {1, 1});
  p.terms = {"u_t", "u_xx"};
  p.residual = [kappa](const Fields& f) { return f("u_t") - kappa * f("u_xx"); };
  p.solution = [kappa](const torch::Tensor& x) { return torch::exp(-kappa * kPi * kPi * col(x, 1)) * sinpi(col(x, 0)); };
  p.conditions = {{"boundary", faces_of({0}), "u", zeros_at}, {"initial", {Face{1, false}}, "u", {}}};
  return p;
}

Pde burgers(core::Section s) {
  const double nu = s.get<double>("nu", 0.1), a = s.get<double>("a", 2.0);
  s.check(nu > 0, "nu", "the viscosity must be > 0");
  s.check(a > 1, "a", "must be > 1 (the Cole-Hopf potential a + e^{-νπ²t} cos πx stays positive)");
  Pde p;
  p.description = fmt::format("u_t + u u_x = {} u_xx on [0,1] x [0,1], u = 0 at x = 0, 1 (Cole-Hopf solution, a = {})", nu, a);
  p.coordinates = {"x", "t"};
  p.domain = box({0, 0}, {1, 1});
  p.terms = {"u_t", "u_x", "u_xx"};
  p.residual = [nu](const Fields& f) { return f("u_t") + f.u() * f("u_x") - nu * f("u_xx"); };
  p.solution = [nu, a](const torch::Tensor& x) {
    const auto e = torch::exp(-nu * kPi * kPi * col(x, 1));
    return 2 * nu * kPi * e * sinpi(col(x, 0)) / (a + e * torch::cos(kPi * col(x, 0)));
  };
  p.conditions = {{"boundary", faces_of({0}), "u", zeros_at}, {"initial", {Face{1, false}}, "u", {}}};
  return p;
}

Pde kdv(core::Section s) {
  const double c = s.get<double>("c", 1.0);
  s.check(c > 0, "c", "the soliton's speed must be > 0");
  Pde p;
  p.description = fmt::format("u_t + 6 u u_x + u_xxx = 0 on [-5,5] x [0,1], the soliton of speed {}", c);
  p.coordinates = {"x", "t"};
  p.domain = box({-5, 0}, {5, 1});
  p.terms = {"u_t", "u_x", "u_xxx"};
  p.residual = [](const Fields& f) { return f("u_t") + 6 * f.u() * f("u_x") + f("u_xxx"); };
  p.solution = [c](const torch::Tensor& x) {
    const auto z = std::sqrt(c) / 2 * (col(x, 0) - c * col(x, 1));
    return c / 2 / torch::cosh(z).square();
  };
  p.conditions = {{"boundary", faces_of({0}), "u", {}}, {"initial", {Face{1, false}}, "u", {}}};
  return p;
}

Pde beam(core::Section) {
  Pde p;
  p.description = "u_xxxx = -1 on [0,1], clamped at x = 0 (u = u_x = 0), free at x = 1 (u_xx = u_xxx = 0)";
  p.coordinates = {"x"};
  p.domain = box({0}, {1});
  p.terms = {"u_xxxx"};
  p.residual = [](const Fields& f) { return f("u_xxxx") + 1; };
  p.solution = [](const torch::Tensor& x) { return -x.pow(4) / 24 + x.pow(3) / 6 - x.square() / 4; };
  const std::vector<Face> clamped{Face{0, false}}, free{Face{0, true}};
  p.conditions = {{"clamped", clamped, "u", zeros_at},
                  {"clamped_slope", clamped, "u_x", zeros_at},
                  {"free_moment", free, "u_xx", zeros_at},
                  {"free_shear", free, "u_xxx", zeros_at}};
  return p;
}

Pde biharmonic2d(core::Section) {
  Pde p;
  p.description = "Δ²u = 4π⁴ sin πx sin πy on [0,1]², simply supported plate (u = 0, u_nn = 0)";
  p.coordinates = {"x", "y"};
  p.domain = box({0, 0}, {1, 1});
  p.terms = {"u_xxxx", "u_xxyy", "u_yyyy"};
  p.solution = [](const torch::Tensor& x) { return sinpi(col(x, 0)) * sinpi(col(x, 1)); };
  p.residual = [sol = p.solution](const Fields& f) {
    return f("u_xxxx") + 2 * f("u_xxyy") + f("u_yyyy") - 4 * std::pow(kPi, 4) * sol(f.x());
  };
  p.conditions = {{"boundary", faces_of({0, 1}), "u", zeros_at},
                  {"moment_x", faces_of({0}), "u_xx", zeros_at},
                  {"moment_y", faces_of({1}), "u_yy", zeros_at}};
  return p;
}

Pde poisson_nd(core::Section s) {
  const int64_t d = s.get<int64_t>("dim", 100);
  s.check(d >= 1, "dim", "must be >= 1");
  Pde p;
  p.description = fmt::format("-Δu = (π²/d) Σ sin πx_j on [0,1]^{}, u = solution on the boundary", d);
  for (int64_t j = 1; j <= d; ++j) p.coordinates.push_back(fmt::format("x{}", j));
  p.domain = box(std::vector<double>(static_cast<std::size_t>(d), 0.0), std::vector<double>(static_cast<std::size_t>(d), 1.0));
  p.laplacian = true;
  p.solution = [d](const torch::Tensor& x) { return sinpi(x).sum(1, true) / static_cast<double>(d); };
  p.residual = [sol = p.solution](const Fields& f) { return -f.laplacian() - kPi * kPi * sol(f.x()); };
  std::vector<int64_t> all(static_cast<std::size_t>(d));
  for (int64_t j = 0; j < d; ++j) all[static_cast<std::size_t>(j)] = j;
  p.conditions = {{"boundary", faces_of(all), "u", {}}};
  return p;
}

}  // namespace

std::map<std::string, PdeFactory> builtin_pdes() {
  return {{"poisson2d", poisson2d}, {"heat", heat},     {"burgers", burgers},       {"kdv", kdv},
          {"beam", beam},           {"biharmonic2d", biharmonic2d}, {"poisson_nd", poisson_nd}};
}

}  // namespace regula::pinn
