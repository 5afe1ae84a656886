#include "core/errors.h"
#include "core/registry.h"
#include "regularizers/ktv.h"
#include "regularizers/parameter_norms.h"
#include "regularizers/regularizer.h"

namespace regula::regularizers {

namespace {

core::Registry<RegularizerFactory>& registry() {
  static core::Registry<RegularizerFactory> r({
      {"ktv", [](core::Section s) { return std::make_shared<KTV>(ktv_options(s)); }},
      {"l1", [](core::Section s) { return std::make_shared<L1Penalty>(parameter_norm_options(s)); }},
      {"l2", [](core::Section s) { return std::make_shared<L2Penalty>(parameter_norm_options(s)); }},
  });
  return r;
}

}  // namespace

void register_regularizer(const std::string& kind, RegularizerFactory factory) {
  try {
    registry().add(kind, std::move(factory));
  } catch (const Error&) {
    throw ConfigError("register_regularizer: the kind must be non-empty and the factory set");
  }
}

std::vector<std::string> registered_regularizers() { return registry().kinds(); }

std::shared_ptr<Regularizer> make_regularizer(core::Section section) {
  const auto kind = section.require<std::string>("kind");
  const RegularizerFactory factory = registry().find(kind);
  if (!factory) section.check_choice("kind", kind, registered_regularizers());
  return factory(section);
}

}  // namespace regula::regularizers
