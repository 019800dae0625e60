#include "yaml_fields.hpp"

#include <charconv>
#include <tunedhttp/units.hpp>

namespace tunedhttp::harness::detail {
namespace {

// A scalar that is not a string, for messages: "a map", "a list", "nothing".
std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
  }
  return "something else";
}

}  // namespace

void require_scalar(const YAML::Node& node, const std::string& file, const std::string& what,
                    const std::string& expected) {
  if (!node.IsScalar())
    fail_at(node, file, what + ": expected " + expected + ", got " + kind_of(node));
}

SourceLocation location_of(const YAML::Node& node, const std::string& file) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

void fail_at(const YAML::Node& node, const std::string& file, const std::string& problem) {
  throw LoadError(location_of(node, file), problem);
}

Fields::Fields(const YAML::Node& node, std::string file, std::string what,
               std::initializer_list<const char*> known)
    : Fields(node, std::move(file), std::move(what),
             std::vector<std::string>(known.begin(), known.end())) {}

Fields::Fields(const YAML::Node& node, std::string file, std::string what,
               const std::vector<std::string>& known)
    : node_(node),
      file_(std::move(file)),
      what_(std::move(what)),
      known_(known.begin(), known.end()) {
  if (!node_.IsMap()) fail_at(node_, file_, what_ + ": expected a map, got " + kind_of(node_));
}

YAML::Node Fields::get(const std::string& key) const {
  for (const auto& entry : node_) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node Fields::require(const std::string& key) const {
  YAML::Node value = get(key);
  if (!value.IsDefined()) fail_at(node_, file_, what_ + ": missing field '" + key + "'");
  return value;
}

void Fields::finish() const {
  for (const auto& entry : node_) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (known_.count(key) != 0) continue;
    std::string list;
    for (const auto& name : known_) list += (list.empty() ? "" : ", ") + name;
    fail_at(entry.first, file_, what_ + ": unknown key '" + key + "' (known: " + list + ")");
  }
}

std::string read_string(const YAML::Node& node, const std::string& file, const std::string& what) {
  require_scalar(node, file, what, "a string");
  return node.Scalar();
}

std::string read_scalar_text(const YAML::Node& node, const std::string& file,
                             const std::string& what) {
  require_scalar(node, file, what, "a scalar value");
  return node.Scalar();
}

std::chrono::nanoseconds read_duration(const YAML::Node& node, const std::string& file,
                                       const std::string& what) {
  require_scalar(node, file, what, "a duration such as 250ms or 1.5s");
  auto parsed = parse_duration(node.Scalar());
  if (!parsed) {
    fail_at(node, file,
            what + ": bad duration '" + node.Scalar() + "' (use Go syntax: 250ms, 1.5s, 2m)");
  }
  return *parsed;
}

std::uint64_t read_size(const YAML::Node& node, const std::string& file, const std::string& what) {
  require_scalar(node, file, what, "a size such as 64KiB");
  auto parsed = parse_size(node.Scalar());
  if (!parsed) {
    fail_at(node, file, what + ": bad size '" + node.Scalar() + "' (use 512, 64KiB, 1MiB, 10kB)");
  }
  return *parsed;
}

std::int64_t read_integer(const YAML::Node& node, const std::string& file, const std::string& what,
                          std::int64_t minimum) {
  require_scalar(node, file, what, "a whole number");
  const std::string& text = node.Scalar();
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    fail_at(node, file, what + ": expected a whole number, got '" + text + "'");
  }
  if (value < minimum) {
    fail_at(node, file, what + ": must be at least " + std::to_string(minimum) + ", got " + text);
  }
  return value;
}

bool read_bool(const YAML::Node& node, const std::string& file, const std::string& what) {
  require_scalar(node, file, what, "true or false");
  const std::string& text = node.Scalar();
  if (text == "true") return true;
  if (text == "false") return false;
  fail_at(node, file, what + ": expected true or false, got '" + text + "'");
}

}  // namespace tunedhttp::harness::detail
