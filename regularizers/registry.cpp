#include <map>
#include <mutex>

#include "core/errors.h"
#include "regularizers/ktv.h"
#include "regularizers/parameter_norms.h"
#include "regularizers/regularizer.h"

namespace regula::regularizers {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, RegularizerFactory> factories;
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    reg->factories["l2"] = [](core::Section s) {
      return std::make_shared<L2Penalty>(parameter_norm_options(s));
    };
    reg->factories["ktv"] = [](core::Section s) { return std::make_shared<KTV>(ktv_options(s)); };
    reg->factories["l1"] = [](core::Section s) {
      return std::make_shared<L1Penalty>(parameter_norm_options(s));
    };
    return reg;
  }();
  return *r;
}

}  // namespace

void register_regularizer(const std::string& kind, RegularizerFactory factory) {
  if (kind.empty() || !factory) throw ConfigError("register_regularizer: the kind must be non-empty and the factory set");
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.factories[kind] = std::move(factory);
}

std::vector<std::string> registered_regularizers() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> kinds;
  for (const auto& kv : r.factories) kinds.push_back(kv.first);
  return kinds;
}

std::shared_ptr<Regularizer> make_regularizer(core::Section section) {
  const auto kind = section.require<std::string>("kind");
  RegularizerFactory factory;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    const auto it = r.factories.find(kind);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) section.check_choice("kind", kind, registered_regularizers());
  return factory(section);
}

}  // namespace regula::regularizers
