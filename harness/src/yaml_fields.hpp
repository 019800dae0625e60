#pragma once
// Typed reads of YAML nodes for the scenario loader. Every failure throws LoadError at the
// node's file:line:column, saying which field and what was expected.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <tunedhttp/harness/loader.hpp>
#include <vector>

namespace tunedhttp::harness::detail {

/// Where `node` sits in `file` (1-based).
SourceLocation location_of(const YAML::Node& node, const std::string& file);

/// Throws LoadError at `node`.
[[noreturn]] void fail_at(const YAML::Node& node, const std::string& file,
                          const std::string& problem);

/// A mapping whose keys are all known: take() each key, then finish() rejects the rest.
class Fields {
 public:
  /// `what` names the mapping in messages ("client", "request"). Throws unless `node` is a map.
  Fields(const YAML::Node& node, std::string file, std::string what,
         std::initializer_list<const char*> known);
  Fields(const YAML::Node& node, std::string file, std::string what,
         const std::vector<std::string>& known);
  /// The value of `key`, or an undefined node when absent.
  YAML::Node get(const std::string& key) const;
  /// The value of `key`; throws "missing field" when absent.
  YAML::Node require(const std::string& key) const;
  /// Throws on the first key not in the known list (with the list of known keys).
  void finish() const;
  const std::string& file() const { return file_; }
  const std::string& what() const { return what_; }
  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node node_;
  std::string file_;
  std::string what_;
  std::set<std::string> known_;
};

/// Throws "<what>: expected <expected>, got <kind>" unless `node` is a scalar.
void require_scalar(const YAML::Node& node, const std::string& file, const std::string& what,
                    const std::string& expected);
std::string read_string(const YAML::Node& node, const std::string& file, const std::string& what);
std::chrono::nanoseconds read_duration(const YAML::Node& node, const std::string& file,
                                       const std::string& what);
/// A byte size ("64KiB", "512", 0).
std::uint64_t read_size(const YAML::Node& node, const std::string& file, const std::string& what);
/// A whole number >= `minimum`.
std::int64_t read_integer(const YAML::Node& node, const std::string& file, const std::string& what,
                          std::int64_t minimum);
bool read_bool(const YAML::Node& node, const std::string& file, const std::string& what);
/// A scalar's text for a map of strings (numbers and booleans as written).
std::string read_scalar_text(const YAML::Node& node, const std::string& file,
                             const std::string& what);

}  // namespace tunedhttp::harness::detail
