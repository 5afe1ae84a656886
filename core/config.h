#pragma once
/// \file YAML front end: a config file plus `a.b.c=value` overrides, read
/// into typed option structs.  Every key a reader asks for is recorded with
/// its resolved value (default or given), so that
///  * unknown keys are reported with the nearest known key (`finish()`), and
///  * the fully resolved config can be written back (`resolved_yaml()`) and
///    fed in again to reproduce a run.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/errors.h"

namespace regula::core {

/// A config being read: one per run, shared by all its sections.
class Config {
 public:
  /// Parses YAML text; `origin` names it in messages (a path or "<defaults>").
  static Config from_string(const std::string& yaml_text, const std::string& origin);
  /// Loads a YAML file; a missing or malformed file is a ConfigError.
  static Config from_file(const std::string& path);

  /// Applies `a.b.c=value` (value parsed as YAML: `1e-3`, `[64,64]`, `true`).
  void apply_override(const std::string& assignment);
  void apply_overrides(const std::vector<std::string>& assignments);

  /// A view on the root section.
  class Section root();

  /// Throws ConfigError for the first key given but never read, suggesting
  /// the nearest key that was read at the same level.
  void finish() const;

  /// The config as read: every key asked for, with its resolved value.
  std::string resolved_yaml() const;

  const std::string& origin() const;

 private:
  struct State;
  explicit Config(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
  friend class Section;
};

/// A section of a config (the root, or a nested map such as `train.early_stopping`).
class Section {
 public:
  /// Value of `key`, or `fallback` when absent.  Wrong types are ConfigErrors.
  template <class T>
  T get(const std::string& key, const T& fallback);
  /// A list that may be written as one value (`lr: 0.01` or `lr: [0.01, 0.02]`), or `fallback`.
  template <class T>
  std::vector<T> get_list(const std::string& key, const std::vector<T>& fallback);
  /// Value of `key`, which must be present.
  template <class T>
  T require(const std::string& key);
  /// A file or folder path: relative paths are taken from the working directory and
  /// recorded absolute, so a resumed run finds its data from anywhere.  Empty stays empty;
  /// `required` makes an absent key a ConfigError.
  std::string get_path(const std::string& key, bool required = false);
  /// Value of `key`, or nullopt when absent (or `null`).
  template <class T>
  std::optional<T> optional(const std::string& key);
  /// Whether the key is given in the input.
  bool has(const std::string& key) const;
  /// The shape of the value given for `key`, for options that accept several
  /// forms (e.g. `domain: data | [lo, hi] | [[lo, hi], ...]`).
  enum class Shape { kAbsent, kScalar, kList, kNestedList, kMap };
  Shape shape(const std::string& key) const;
  /// Of several keys that set the same thing (e.g. `w0` or `alpha`), the one
  /// to read: the one given, or the one set last when several are (a
  /// command-line override replaces the file's form); the first key when
  /// none is given.  Two forms given side by side in one file are a ConfigError.
  /// Only the key read is recorded in the resolved config.
  std::string one_of(const std::vector<std::string>& keys);
  /// A ConfigError "'a.old' was renamed to 'new.path'" when `old_key` is
  /// given, so an old config fails clearly instead of silently.
  void renamed(const std::string& old_key, const std::string& new_path, const std::string& example = "");
  /// A nested section (present or not: absent sections read their defaults).
  Section section(const std::string& key);
  /// Throws a ConfigError naming `key`, its value and `what_is_valid` unless `ok`.
  void check(bool ok, const std::string& key, const std::string& what_is_valid) const;
  /// Throws a ConfigError unless the value of `key` is one of `choices`.
  void check_choice(const std::string& key, const std::string& value,
                    const std::vector<std::string>& choices) const;
  /// The dotted path of a key in this section, for messages.
  std::string path(const std::string& key) const;

 private:
  friend class Config;
  Section(std::shared_ptr<Config::State> state, std::string prefix);
  YAML::Node input(const std::string& key) const;
  void record(const std::string& key, const YAML::Node& value);
  template <class T>
  T convert(const std::string& key, const YAML::Node& node);
  std::shared_ptr<Config::State> state_;
  std::string prefix_;
};

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace regula::core
