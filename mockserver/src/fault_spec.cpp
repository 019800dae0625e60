// `serve --fault` SPECs: NAME[=VALUE[,VALUE]...], NAME in kebab-case (stall-accept), each VALUE
// either `key:value` (a parameter, or a target: connection:N, request:N, path:/p) or a bare value
// for the fault's main parameter (hold-headers=5s) or its own short form (drip-body=1KiB/100ms).
#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <tunedhttp/http_syntax.hpp>

#include "fault.hpp"

namespace tunedhttp::mockserver {
namespace {

[[noreturn]] void fail(const std::string& spec, const std::string& why) {
  throw std::invalid_argument("bad fault SPEC " + quote(spec, 80, '\'') + ": " + why);
}

std::uint64_t parse_target_number(const std::string& spec, const std::string& key,
                                  std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0) {
    fail(spec, "target '" + key + "' must be a whole number of at least 1");
  }
  return value;
}

}  // namespace

FaultConfig parse_fault_spec(const std::string& spec) {
  const auto equals = spec.find('=');
  std::string name = spec.substr(0, equals);
  std::replace(name.begin(), name.end(), '-', '_');
  const auto* descriptor = detail::find_fault(name);
  if (descriptor == nullptr) {
    std::string known;
    for (auto candidate : fault_names()) {
      std::replace(candidate.begin(), candidate.end(), '_', '-');
      known += (known.empty() ? "" : ", ") + candidate;
    }
    fail(spec, "unknown fault (expected one of: " + known + ")");
  }

  FaultConfig config;
  config.name = name;
  if (equals != std::string::npos) {
    const std::string values = spec.substr(equals + 1);
    if (values.empty()) fail(spec, "empty value after '='");
    std::size_t start = 0;
    while (start <= values.size()) {
      auto comma = values.find(',', start);
      if (comma == std::string::npos) comma = values.size();
      const std::string item = values.substr(start, comma - start);
      start = comma + 1;
      if (item.empty()) fail(spec, "empty value between commas");
      const auto colon = item.find(':');
      if (colon != std::string::npos) {
        const std::string key = item.substr(0, colon);
        const std::string value = item.substr(colon + 1);
        if (key == "connection") {
          config.target.connection = parse_target_number(spec, key, value);
        } else if (key == "request") {
          config.target.request = parse_target_number(spec, key, value);
        } else if (key == "path") {
          config.target.path = value;
        } else if (key == "listener") {
          // "[::1]" or "::1" alike: the brackets only keep the colons apart in a URL.
          const bool bracketed = value.size() >= 2 && value.front() == '[' && value.back() == ']';
          config.target.listener = bracketed ? value.substr(1, value.size() - 2) : value;
        } else {
          config.parameters[key] = value;
        }
        continue;
      }
      if (descriptor->parse_value) {
        if (auto parameters = descriptor->parse_value(item)) {
          config.parameters.merge(*parameters);
          continue;
        }
      }
      if (descriptor->primary_parameter.empty()) {
        fail(spec, "unexpected value '" + item + "'");
      }
      config.parameters[descriptor->primary_parameter] = item;
    }
  }
  if (auto error = validate(config); !error.empty()) fail(spec, error);
  return config;
}

}  // namespace tunedhttp::mockserver
