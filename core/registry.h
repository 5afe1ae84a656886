#pragma once
/// \file A thread-safe name -> factory map: the one mechanism behind the
/// model registry (models/registry.h) and the regularizer registry
/// (regularizers/regularizer.h), so users' own kinds can be named in YAML.
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"

namespace regula::core {

/// Factories by kind name.  Registration may happen during static
/// initialization (REGULA_REGISTER_MODEL), so instances live in function-local statics.
template <class Factory>
class Registry {
 public:
  explicit Registry(std::map<std::string, Factory> builtins = {}) : factories_(std::move(builtins)) {}

  /// Adds or replaces `kind`; an empty kind or factory is an Error.
  void add(const std::string& kind, Factory factory) {
    if (kind.empty() || !factory) throw Error("registering a kind needs a non-empty name and a factory");
    std::lock_guard<std::mutex> lock(mutex_);
    factories_[kind] = std::move(factory);
  }

  /// The registered kinds, sorted.
  std::vector<std::string> kinds() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& entry : factories_) out.push_back(entry.first);
    return out;
  }

  /// The factory of `kind`, or an empty one when it is not registered.
  Factory find(const std::string& kind) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = factories_.find(kind);
    return it == factories_.end() ? Factory{} : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Factory> factories_;
};

}  // namespace regula::core
