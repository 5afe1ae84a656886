#include "core/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace regula::core {
namespace {

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  std::stringstream ss(dotted);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// Read-only navigation: yaml-cpp's non-const operator[] inserts keys and its
// operator= assigns through references, so walk with const nodes and reset().
YAML::Node find(const YAML::Node& root, const std::string& dotted) {
  YAML::Node cur;
  cur.reset(root);
  if (dotted.empty()) return cur;
  for (const auto& part : split_path(dotted)) {
    if (!cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node parent = cur;
    YAML::Node child = parent[part];
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    cur.reset(child);
  }
  return cur;
}

// Navigation that creates maps along the way (for overrides and the resolved tree).
YAML::Node make_path(YAML::Node& root, const std::vector<std::string>& parts, const std::string& what) {
  YAML::Node cur;
  cur.reset(root);
  std::string sofar;
  for (const auto& part : parts) {
    sofar = join(sofar, part);
    if (!cur.IsMap() && !cur.IsNull()) {
      throw ConfigError(fmt::format("{}: '{}' is a value, not a section", what, sofar));
    }
    YAML::Node child = cur[part];
    if (!child.IsDefined() || child.IsNull()) {
      cur[part] = YAML::Node(YAML::NodeType::Map);
      child.reset(cur[part]);
    }
    cur.reset(child);
  }
  return cur;
}

std::string show(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out.SetMapFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

template <class T>
const char* type_name();
template <> const char* type_name<double>() { return "a number"; }
template <> const char* type_name<int64_t>() { return "an integer"; }
template <> const char* type_name<int>() { return "an integer"; }
template <> const char* type_name<bool>() { return "true or false"; }
template <> const char* type_name<std::string>() { return "a string"; }
template <> const char* type_name<std::vector<int64_t>>() { return "a list of integers, e.g. [64, 64]"; }
template <> const char* type_name<std::vector<double>>() { return "a list of numbers, e.g. [1, 2.5]"; }
template <> const char* type_name<std::vector<std::string>>() { return "a list of strings"; }
template <> const char* type_name<std::vector<std::vector<double>>>() { return "a list of lists of numbers, e.g. [[0, 1], [0, 2]]"; }

// Encode doubles in their shortest round-trip form ("0.1", "1e-06").
template <class T>
YAML::Node encode(const T& value) { return YAML::Node(value); }
template <>
YAML::Node encode<double>(const double& value) { return YAML::Node(fmt::format("{}", value)); }
template <>
YAML::Node encode<std::vector<double>>(const std::vector<double>& values) {
  YAML::Node seq(YAML::NodeType::Sequence);
  for (double v : values) seq.push_back(fmt::format("{}", v));
  return seq;
}
template <>
YAML::Node encode<std::vector<std::vector<double>>>(const std::vector<std::vector<double>>& rows) {
  YAML::Node seq(YAML::NodeType::Sequence);
  for (const auto& row : rows) seq.push_back(encode(row));
  return seq;
}

// Every key of every map is a plain name given once: yaml-cpp would keep both entries of a
// repeated key (and find the first), and a non-scalar key ({[1, 2]: x}) is no name at all.
// An alias inside its own anchor (&x {b: *x}) makes the tree a cycle: refused, not walked forever.
void check_keys_below(const YAML::Node& node, const std::string& prefix, const std::string& origin,
                      std::vector<YAML::Node>& ancestors) {
  if (!node.IsMap() && !node.IsSequence()) return;
  for (const auto& a : ancestors) {
    if (a.is(node)) {
      throw ConfigError(fmt::format("{}: '{}' refers to itself through a YAML alias: write the values out", origin,
                                    prefix.empty() ? "<root>" : prefix));
    }
  }
  if (ancestors.size() > 64) throw ConfigError(fmt::format("{}: '{}' is nested more than 64 levels deep", origin, prefix));
  ancestors.push_back(node);
  if (node.IsSequence()) {
    for (const auto& item : node) check_keys_below(item, prefix, origin, ancestors);
  } else {
    std::map<std::string, int> seen;
    for (const auto& kv : node) {
      const int line = kv.first.Mark().line + 1;
      if (!kv.first.IsScalar()) {
        throw ConfigError(fmt::format("{}: line {}: a key of '{}' is '{}', not a name: keys must be plain names",
                                      origin, line, prefix.empty() ? "<root>" : prefix, show(kv.first)));
      }
      const auto key = kv.first.Scalar();
      if (const auto it = seen.find(key); it != seen.end()) {
        throw ConfigError(fmt::format("{}: key '{}' is given twice (lines {} and {}): keep one", origin,
                                      join(prefix, key), it->second, line));
      }
      seen[key] = line;
      check_keys_below(kv.second, join(prefix, key), origin, ancestors);
    }
  }
  ancestors.pop_back();
}

void check_keys(const YAML::Node& root, const std::string& at, const std::string& origin) {
  std::vector<YAML::Node> ancestors;
  check_keys_below(root, at, origin, ancestors);
}

}  // namespace

struct Config::State {
  std::string origin;
  YAML::Node input;
  YAML::Node resolved{YAML::NodeType::Map};
  std::map<std::string, std::vector<std::string>> known;  // section -> keys read, in order
  std::set<std::string> sections;                          // dotted paths read as sections
  std::map<std::string, int> override_rank;                // dotted path -> order of its override (1, 2, ...)

  void remember(const std::string& prefix, const std::string& key) {
    auto& keys = known[prefix];
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
};

Config::Config(std::shared_ptr<State> state) : state_(std::move(state)) {}

Config Config::from_string(const std::string& yaml_text, const std::string& origin) {
  auto state = std::make_shared<State>();
  state->origin = origin;
  try {
    state->input = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: malformed YAML at line {}, column {}: {}", origin,
                                  e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  check_keys(state->input, "", origin);
  if (state->input.IsNull() || !state->input.IsDefined()) {
    state->input = YAML::Node(YAML::NodeType::Map);
  } else if (!state->input.IsMap()) {
    throw ConfigError(fmt::format("{}: a config must be a map of keys to values, got '{}'", origin,
                                  show(state->input)));
  }
  return Config(std::move(state));
}

Config Config::from_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    throw ConfigError(fmt::format("config '{}' is a directory: give a YAML file (to continue a run in it, use --resume)",
                                  path));
  }
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("cannot open config file '{}': check the path", path));
  std::stringstream text;
  text << in.rdbuf();
  return from_string(text.str(), path);
}

void Config::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(fmt::format("override '{}' must look like key=value, e.g. train.eta=1e-3", assignment));
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("override '{}': value '{}' is not valid YAML ({})", assignment, text, e.msg));
  }
  check_keys(value, key, fmt::format("override '{}'", assignment));
  auto parts = split_path(key);
  const std::string leaf = parts.back();
  parts.pop_back();
  YAML::Node parent = make_path(state_->input, parts, fmt::format("override '{}'", assignment));
  if (!parent.IsMap() && !parent.IsNull()) {
    throw ConfigError(fmt::format("override '{}': '{}' is a value, not a section", assignment,
                                  key.substr(0, key.rfind('.'))));
  }
  parent[leaf] = value;
  state_->override_rank[key] = static_cast<int>(state_->override_rank.size()) + 1;
}

void Config::apply_overrides(const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_override(a);
}

Section Config::root() { return Section(state_, ""); }

const std::string& Config::origin() const { return state_->origin; }

void Config::finish() const {
  // Walk the input; every key must have been read (as a value or a section).
  std::vector<std::pair<std::string, YAML::Node>> stack{{"", state_->input}};
  while (!stack.empty()) {
    auto [prefix, node] = stack.back();
    stack.pop_back();
    if (!node.IsMap()) continue;
    const auto& keys = state_->known[prefix];
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const std::string dotted = join(prefix, key);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        if (kv.second.IsNull()) continue;  // `key: null` (or `key=null`) is an absent key
        // A kind switched on the command line (data.kind=csv) leaves the old kind's keys behind.
        const auto kind_path = join(prefix, "kind");
        if (key != "kind" && state_->override_rank.count(kind_path) && !state_->override_rank.count(dotted)) {
          const auto kind = find(state_->input, kind_path);
          std::vector<std::string> stale, drops;
          for (const auto& other : node) {
            const auto k = other.first.as<std::string>();
            if (std::find(keys.begin(), keys.end(), k) == keys.end() && !other.second.IsNull()) {
              stale.push_back("'" + join(prefix, k) + "'");
              drops.push_back(join(prefix, k) + "=null");
            }
          }
          throw ConfigError(fmt::format("{}: {} {} not {} of {} = {}, which the command line set: the config's keys "
                                        "of its old kind are not read; drop them with {}, or use a config written "
                                        "for {}",
                                        state_->origin, fmt::join(stale, ", "), stale.size() > 1 ? "are" : "is",
                                        stale.size() > 1 ? "keys" : "a key", kind_path,
                                        kind.IsScalar() ? kind.Scalar() : "?", fmt::join(drops, " "),
                                        kind.IsScalar() ? kind.Scalar() : "it"));
        }
        std::string msg = fmt::format("{}: unknown key '{}'", state_->origin, dotted);
        std::string best;
        std::size_t best_d = std::string::npos;
        for (const auto& k : keys) {
          const auto d = edit_distance(key, k);
          if (d < best_d) best_d = d, best = k;
        }
        if (!best.empty() && best_d <= std::max<std::size_t>(2, key.size() / 3)) {
          msg += fmt::format("; did you mean '{}'?", join(prefix, best));
        }
        if (!keys.empty()) {
          msg += fmt::format(" (valid keys{}: {})", prefix.empty() ? "" : " in '" + prefix + "'",
                             fmt::join(keys, ", "));
        }
        throw ConfigError(msg);
      }
      if (state_->sections.count(dotted)) {
        if (!kv.second.IsMap() && !kv.second.IsNull()) {
          throw ConfigError(fmt::format("{}: '{}' must be a section (a map of keys), got '{}'",
                                        state_->origin, dotted, show(kv.second)));
        }
        stack.emplace_back(dotted, kv.second);
      }
    }
  }
}

std::string Config::resolved_yaml() const {
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out << state_->resolved;
  return std::string(out.c_str()) + "\n";
}

// ---------------------------------------------------------------------------

Section::Section(std::shared_ptr<Config::State> state, std::string prefix)
    : state_(std::move(state)), prefix_(std::move(prefix)) {}

std::string Section::path(const std::string& key) const { return join(prefix_, key); }

YAML::Node Section::input(const std::string& key) const { return find(state_->input, path(key)); }

bool Section::has(const std::string& key) const {
  const auto node = input(key);
  return node.IsDefined() && !node.IsNull();
}

void Section::record(const std::string& key, const YAML::Node& value) {
  state_->remember(prefix_, key);
  auto parts = split_path(prefix_);
  if (prefix_.empty()) parts.clear();
  YAML::Node parent = make_path(state_->resolved, parts, "resolved config");
  parent[key] = value;
}

Section::Shape Section::shape(const std::string& key) const {
  const auto node = input(key);
  if (!node.IsDefined() || node.IsNull()) return Shape::kAbsent;
  if (node.IsScalar()) return Shape::kScalar;
  if (node.IsMap()) return Shape::kMap;
  return node.size() > 0 && node[0].IsSequence() ? Shape::kNestedList : Shape::kList;
}

std::string Section::one_of(const std::vector<std::string>& keys) {
  std::vector<std::string> given;
  for (const auto& k : keys) {
    if (has(k)) given.push_back(k);
    state_->remember(prefix_, k);  // the forms not taken are known keys, not recorded
  }
  if (given.empty()) return keys.front();
  if (given.size() == 1) return given.front();
  // The form set last wins: an override beats the file, a later override an earlier one.
  auto rank = [&](const std::string& k) {
    const auto it = state_->override_rank.find(path(k));
    return it == state_->override_rank.end() ? 0 : it->second;
  };
  std::sort(given.begin(), given.end(), [&](const auto& a, const auto& b) { return rank(a) > rank(b); });
  if (rank(given[0]) == rank(given[1])) {
    std::vector<std::string> paths;
    for (const auto& k : given) paths.push_back("'" + path(k) + "'");
    throw ConfigError(fmt::format("{}: {} set the same thing: give only one of them", state_->origin,
                                  fmt::join(paths, " and ")));
  }
  return given.front();
}

void Section::renamed(const std::string& old_key, const std::string& new_path, const std::string& example) {
  if (!has(old_key)) return;
  state_->remember(prefix_, old_key);
  throw ConfigError(fmt::format("{}: '{}' was renamed to '{}'{}", state_->origin, path(old_key), new_path,
                                example.empty() ? std::string() : " (" + example + ")"));
}

Section Section::section(const std::string& key) {
  state_->remember(prefix_, key);
  state_->sections.insert(path(key));
  return Section(state_, path(key));
}

template <class T>
T Section::convert(const std::string& key, const YAML::Node& node) {
  try {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!node.IsScalar()) throw YAML::BadConversion(node.Mark());
    }
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError(fmt::format("{}: '{}' must be {}, got '{}'", state_->origin, path(key),
                                  type_name<T>(), show(node)));
  }
}

template <class T>
T Section::get(const std::string& key, const T& fallback) {
  const auto node = input(key);
  T value = (node.IsDefined() && !node.IsNull()) ? convert<T>(key, node) : fallback;
  record(key, encode(value));
  return value;
}

template <class T>
T Section::require(const std::string& key) {
  const auto node = input(key);
  if (!node.IsDefined() || node.IsNull()) {
    state_->remember(prefix_, key);
    throw ConfigError(fmt::format("{}: missing required key '{}' ({})", state_->origin, path(key),
                                  type_name<T>()));
  }
  T value = convert<T>(key, node);
  record(key, encode(value));
  return value;
}

template <class T>
std::optional<T> Section::optional(const std::string& key) {
  const auto node = input(key);
  if (!node.IsDefined() || node.IsNull()) {
    record(key, YAML::Node(YAML::NodeType::Null));
    return std::nullopt;
  }
  T value = convert<T>(key, node);
  record(key, encode(value));
  return value;
}

template <class T>
std::vector<T> Section::get_list(const std::string& key, const std::vector<T>& fallback) {
  if (shape(key) == Shape::kScalar) return {get<T>(key, fallback.empty() ? T{} : fallback.front())};
  return get<std::vector<T>>(key, fallback);
}
template std::vector<double> Section::get_list<double>(const std::string&, const std::vector<double>&);
template std::vector<int64_t> Section::get_list<int64_t>(const std::string&, const std::vector<int64_t>&);

std::string Section::get_path(const std::string& key, bool required) {
  const auto given = required ? require<std::string>(key) : get<std::string>(key, "");
  if (given.empty()) return given;
  const auto absolute = std::filesystem::absolute(given).lexically_normal().string();
  record(key, YAML::Node(absolute));
  return absolute;
}

void Section::check(bool ok, const std::string& key, const std::string& what_is_valid) const {
  if (ok) return;
  const auto resolved = find(state_->resolved, path(key));
  const auto given = resolved.IsDefined() ? resolved : input(key);
  throw ConfigError(fmt::format("{}: invalid '{}' = {}: {}", state_->origin, path(key),
                                given.IsDefined() ? show(given) : "<unset>", what_is_valid));
}

void Section::check_choice(const std::string& key, const std::string& value,
                           const std::vector<std::string>& choices) const {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  std::string msg = fmt::format("{}: invalid '{}' = {}: must be one of {}", state_->origin, path(key),
                                value, fmt::join(choices, ", "));
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& c : choices) {
    const auto d = edit_distance(value, c);
    if (d < best_d) best_d = d, best = c;
  }
  if (best_d <= 2) msg += fmt::format(" (did you mean '{}'?)", best);
  throw ConfigError(msg);
}

#define REGULA_INSTANTIATE(T)                                      \
  template T Section::get<T>(const std::string&, const T&);        \
  template T Section::require<T>(const std::string&);              \
  template std::optional<T> Section::optional<T>(const std::string&);
REGULA_INSTANTIATE(double)
REGULA_INSTANTIATE(int64_t)
REGULA_INSTANTIATE(int)
REGULA_INSTANTIATE(bool)
REGULA_INSTANTIATE(std::string)
REGULA_INSTANTIATE(std::vector<int64_t>)
REGULA_INSTANTIATE(std::vector<double>)
REGULA_INSTANTIATE(std::vector<std::string>)
REGULA_INSTANTIATE(std::vector<std::vector<double>>)
#undef REGULA_INSTANTIATE

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace regula::core
