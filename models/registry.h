#pragma once
/// \file The model registry: a model kind named in YAML (`model.kind: mlp`)
/// maps to a factory that builds a models::Model from its config section.
/// "mlp" is built in; a user registers a module of their own with
/// REGULA_REGISTER_MODEL (see examples/custom_model.cpp) and names it in YAML.
/// Models that are not MLPs are trained with k-TV through the nested-autograd engine.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/model.h"

namespace regula::models {

/// Builds a model from its config section for inputs of `input_dim` and outputs of `output_dim`.
/// It reads its own keys from the section (unread keys are errors at Config::finish()).
using ModelFactory = std::function<Model(core::Section section, int64_t input_dim, int64_t output_dim)>;

/// Registers (or replaces) a model kind.
void register_model(const std::string& kind, ModelFactory factory);

/// Builds the model named by `section.kind` (default "mlp").  An unknown kind is a
/// ConfigError listing the registered kinds.
Model make_model(core::Section section, int64_t input_dim, int64_t output_dim);

/// The registered kinds, sorted.
std::vector<std::string> registered_models();

/// Registers a model kind at program start: `REGULA_REGISTER_MODEL(my_net, factory)`.
/// The file must be linked into the program as an object (not pulled from a static
/// library), as examples/CMakeLists.txt does.
#define REGULA_REGISTER_MODEL(kind, factory)                                      \
  static const bool regula_model_registered_##kind = [] {                         \
    ::regula::models::register_model(#kind, factory);                             \
    return true;                                                                   \
  }()

}  // namespace regula::models
