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
    fail(spec, "target '" + key + "' must be a whole number of at least 1, or a range N-M");
  }
  return value;
}

/// `N` or `N-M` (M >= N) into first and last (last unset for a single number).
void parse_target_range(const std::string& spec, const std::string& key, std::string_view text,
                        std::optional<std::uint64_t>& first, std::optional<std::uint64_t>& last) {
  const auto dash = text.find('-');
  first = parse_target_number(spec, key, text.substr(0, dash));
  last.reset();
  if (dash == std::string_view::npos) return;
  last = parse_target_number(spec, key, text.substr(dash + 1));
  if (*last < *first) {
    fail(spec, "target '" + key + "' range " + std::string(text) + " ends before it starts");
  }
}

std::string kebab(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

std::string range_text(std::uint64_t first, const std::optional<std::uint64_t>& last) {
  return std::to_string(first) + (last ? "-" + std::to_string(*last) : "");
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
          parse_target_range(spec, key, value, config.target.connection,
                             config.target.connection_last);
        } else if (key == "request") {
          parse_target_range(spec, key, value, config.target.request, config.target.request_last);
        } else if (key == "path") {
          config.target.path = value;
        } else if (key == "listener") {
          // "[::1]" or "::1" alike: the brackets only keep the colons apart in a URL.
          const bool bracketed = value.size() >= 2 && value.front() == '[' && value.back() == ']';
          config.target.listener = bracketed ? value.substr(1, value.size() - 2) : value;
        } else {
          // Parameters are snake_case; a SPEC may write them in kebab-case (mid-body:1KiB).
          std::string parameter = key;
          std::replace(parameter.begin(), parameter.end(), '-', '_');
          config.parameters[parameter] = value;
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

std::string format_fault_spec(const FaultConfig& config) {
  const auto* descriptor = detail::find_fault(config.name);
  std::vector<std::string> values;
  auto primary = config.parameters.end();
  if (descriptor != nullptr && !descriptor->primary_parameter.empty()) {
    primary = config.parameters.find(descriptor->primary_parameter);
  }
  if (primary != config.parameters.end()) values.push_back(primary->second);
  for (auto it = config.parameters.begin(); it != config.parameters.end(); ++it) {
    if (it != primary) values.push_back(it->first + ":" + it->second);
  }
  const auto& target = config.target;
  if (target.connection)
    values.push_back("connection:" + range_text(*target.connection, target.connection_last));
  if (target.request)
    values.push_back("request:" + range_text(*target.request, target.request_last));
  if (target.path) values.push_back("path:" + *target.path);
  if (target.listener) {
    const bool v6 = target.listener->find(':') != std::string::npos;
    values.push_back("listener:" + (v6 ? "[" + *target.listener + "]" : *target.listener));
  }
  std::string spec = kebab(config.name);
  for (std::size_t i = 0; i < values.size(); ++i) spec += (i == 0 ? "=" : ",") + values[i];
  return spec;
}

}  // namespace tunedhttp::mockserver
