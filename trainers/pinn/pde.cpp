#include "trainers/pinn/pde.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"
#include "core/registry.h"
#include "trainers/pinn/pdes.h"

namespace regula::pinn {
namespace {

core::Registry<PdeFactory>& registry() {
  static core::Registry<PdeFactory> r(builtin_pdes());
  return r;
}

}  // namespace

Fields::Fields(torch::Tensor x, torch::Tensor u, std::vector<std::string> names, torch::Tensor partials,
               torch::Tensor laplacian)
    : x_(std::move(x)), u_(std::move(u)), names_(std::move(names)), partials_(std::move(partials)),
      laplacian_(std::move(laplacian)) {}

torch::Tensor Fields::operator()(const std::string& name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) {
    throw Error(fmt::format("the residual reads '{}', which its PDE does not list in `terms` (listed: {})", name,
                            names_.empty() ? std::string("none") : fmt::format("{}", fmt::join(names_, ", "))));
  }
  return partials_.select(1, it - names_.begin());
}

const torch::Tensor& Fields::laplacian() const {
  if (!laplacian_.defined()) throw Error("the residual reads the Laplacian, but its PDE does not set `laplacian = true`");
  return laplacian_;
}

regularizers::MultiIndex parse_term(const std::string& name, const std::vector<std::string>& coordinates) {
  regularizers::MultiIndex alpha(coordinates.size(), 0);
  const auto bad = [&] {
    return ConfigError(fmt::format("'{}' is not a partial: write u, or u_ followed by coordinate names ({}), "
                                   "e.g. u_{}{}", name, fmt::join(coordinates, ", "), coordinates.front(),
                                   coordinates.front()));
  };
  if (name == "u") return alpha;
  if (name.rfind("u_", 0) != 0 || name.size() == 2) throw bad();
  for (std::size_t pos = 2; pos < name.size();) {
    std::size_t best = 0, which = 0;  // the longest coordinate name at pos
    for (std::size_t j = 0; j < coordinates.size(); ++j) {
      const auto& c = coordinates[j];
      if (c.size() > best && name.compare(pos, c.size(), c) == 0) best = c.size(), which = j;
    }
    if (best == 0) throw bad();
    ++alpha[which];
    pos += best;
  }
  return alpha;
}

std::vector<Face> faces_of(const std::vector<int64_t>& coordinates) {
  std::vector<Face> faces;
  for (const auto j : coordinates) faces.insert(faces.end(), {Face{j, false}, Face{j, true}});
  return faces;
}

void validate(const Pde& pde) {
  const auto bad = [&](const std::string& what) { return ConfigError(fmt::format("PDE '{}': {}", pde.name, what)); };
  if (pde.coordinates.empty()) throw bad("it names no coordinates");
  if (std::set<std::string>(pde.coordinates.begin(), pde.coordinates.end()).size() != pde.coordinates.size()) {
    throw bad("its coordinate names repeat");
  }
  if (pde.domain.dim() != pde.dim()) {
    throw bad(fmt::format("its domain has {} sides for {} coordinates", pde.domain.dim(), pde.dim()));
  }
  for (int64_t j = 0; j < pde.dim(); ++j) {
    if (!(pde.domain.low[j] < pde.domain.high[j])) {
      throw bad(fmt::format("its domain along {} is [{}, {}]: needs low < high", pde.coordinates[j],
                            pde.domain.low[j], pde.domain.high[j]));
    }
  }
  if (pde.outputs < 1) throw bad("it needs outputs >= 1");
  if (!pde.residual) throw bad("it has no residual");
  for (const auto& t : pde.terms) parse_term(t, pde.coordinates);
  std::set<std::string> names{"residual"};
  for (const auto& c : pde.conditions) {
    if (c.name.empty() || !names.insert(c.name).second) {
      throw bad(fmt::format("condition names must be unique and not 'residual' ('{}')", c.name));
    }
    if (c.faces.empty()) throw bad(fmt::format("condition '{}' holds on no face", c.name));
    for (const auto& f : c.faces) {
      if (f.coordinate < 0 || f.coordinate >= pde.dim()) {
        throw bad(fmt::format("condition '{}' names coordinate {} of {}", c.name, f.coordinate, pde.dim()));
      }
    }
    parse_term(c.term, pde.coordinates);
    if (!c.target && !pde.solution) {
      throw bad(fmt::format("condition '{}' has no target and the PDE no solution to take it from", c.name));
    }
  }
}

void register_pde(const std::string& kind, PdeFactory factory) { registry().add(kind, std::move(factory)); }

std::vector<std::string> registered_pdes() { return registry().kinds(); }

Pde make_pde(core::Section section) {
  const auto kind = section.get<std::string>("kind", "");
  const PdeFactory factory = registry().find(kind);
  if (!factory) {
    throw ConfigError(fmt::format("{}: {} PDE kind '{}': registered kinds are {} (register your own with "
                                  "REGULA_REGISTER_PDE, see examples/custom_pde.cpp)",
                                  section.path("kind"), kind.empty() ? "missing" : "unknown", kind,
                                  fmt::join(registered_pdes(), ", ")));
  }
  Pde pde = factory(section);
  if (pde.name.empty()) pde.name = kind;
  validate(pde);
  return pde;
}

}  // namespace regula::pinn
