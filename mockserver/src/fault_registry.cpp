// The one place faults are registered, and the checks every fault config goes through.
#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/units.hpp>

#include "fault.hpp"

namespace tunedhttp::mockserver {
namespace detail {
namespace {

std::optional<std::uint64_t> parse_whole_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<Duration> parse_non_negative_duration(std::string_view text) {
  auto value = parse_duration(text);
  if (!value || value->count() < 0) return std::nullopt;
  return value;
}

std::optional<bool> parse_boolean(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

std::optional<unsigned> parse_status(std::string_view text) {
  auto value = parse_whole_number(text);
  if (!value || text.size() != 3 || *value < 100 || *value > 599) return std::nullopt;
  return static_cast<unsigned>(*value);
}

/// What a value of each kind must look like, for error messages.
std::string_view expectation(ParameterKind kind) {
  switch (kind) {
    case ParameterKind::duration:
      return "a duration such as 250ms or 2s";
    case ParameterKind::size:
      return "a size such as 1KiB or 512";
    case ParameterKind::byte_count:
      return "a size such as 0, 512 or 1KiB";
    case ParameterKind::count:
      return "a whole number of at least 1";
    case ParameterKind::boolean:
      return "true or false";
    case ParameterKind::status:
      return "an HTTP status code such as 417";
  }
  return "";
}

bool value_is_valid(ParameterKind kind, std::string_view text) {
  switch (kind) {
    case ParameterKind::duration:
      return parse_non_negative_duration(text).has_value();
    case ParameterKind::size: {
      auto size = parse_size(text);
      return size && *size > 0;
    }
    case ParameterKind::byte_count:
      return parse_size(text).has_value();
    case ParameterKind::count: {
      auto count = parse_whole_number(text);
      return count && *count > 0;
    }
    case ParameterKind::boolean:
      return parse_boolean(text).has_value();
    case ParameterKind::status:
      return parse_status(text).has_value();
  }
  return false;
}

std::string join_parameter_names(const FaultDescriptor& descriptor) {
  std::string names;
  for (const auto& parameter : descriptor.parameters) {
    if (!names.empty()) names += ", ";
    names += parameter.name;
  }
  return names.empty() ? "none" : names;
}

}  // namespace

const std::string* Parameters::find(const std::string& name) const {
  auto found = values_.find(name);
  return found == values_.end() ? nullptr : &found->second;
}

std::optional<Duration> Parameters::duration(const std::string& name) const {
  const auto* text = find(name);
  return text ? parse_non_negative_duration(*text) : std::nullopt;
}

std::optional<std::uint64_t> Parameters::size(const std::string& name) const {
  const auto* text = find(name);
  return text ? parse_size(*text) : std::nullopt;
}

std::optional<std::uint64_t> Parameters::count(const std::string& name) const {
  const auto* text = find(name);
  return text ? parse_whole_number(*text) : std::nullopt;
}

std::optional<bool> Parameters::boolean(const std::string& name) const {
  const auto* text = find(name);
  return text ? parse_boolean(*text) : std::nullopt;
}

std::optional<unsigned> Parameters::status(const std::string& name) const {
  const auto* text = find(name);
  return text ? parse_status(*text) : std::nullopt;
}

const std::vector<FaultDescriptor>& fault_descriptors() {
  // Registration: one line per fault.
  static const std::vector<FaultDescriptor> descriptors{
      stall_accept_fault(),
      delay_tls_handshake_fault(),
      withhold_continue_fault(),
      hold_headers_fault(),
      close_after_requests_fault(),
      idle_close_fault(),
      drip_body_fault(),
      blackhole_fault(),
      reset_fault(),
      stall_connect_fault(),
      delay_connect_fault(),
      reject_connect_fault(),
      close_tunnel_idle_fault(),
      stall_body_fault(),
      stop_reading_fault(),
  };
  return descriptors;
}

const FaultDescriptor* find_fault(std::string_view name) {
  const auto& descriptors = fault_descriptors();
  auto found = std::find_if(descriptors.begin(), descriptors.end(),
                            [&](const FaultDescriptor& d) { return d.name == name; });
  return found == descriptors.end() ? nullptr : &*found;
}

bool in_target_range(const std::optional<std::uint64_t>& first,
                     const std::optional<std::uint64_t>& last, std::uint64_t number,
                     std::uint64_t before) {
  if (!first) return true;
  if (number <= before) return false;  // came before the fault was set
  const auto counted = number - before;
  return counted >= *first && counted <= last.value_or(*first);
}

FaultLevel level_of(const FaultDescriptor& descriptor, const Parameters& parameters) {
  return descriptor.level_for ? descriptor.level_for(parameters) : descriptor.level;
}

std::vector<ActiveFault> make_faults(const std::vector<FaultConfig>& configs) {
  std::vector<ActiveFault> faults;
  for (const auto& config : configs) {
    if (auto error = validate(config); !error.empty()) throw std::invalid_argument(error);
    const auto* descriptor = find_fault(config.name);
    const Parameters parameters{config.parameters};
    ActiveFault fault;
    fault.config = config;
    fault.level = level_of(*descriptor, parameters);
    fault.fault = descriptor->make(parameters);
    faults.push_back(std::move(fault));
  }
  return faults;
}

}  // namespace detail

std::vector<std::string> fault_names() {
  std::vector<std::string> names;
  for (const auto& descriptor : detail::fault_descriptors()) names.push_back(descriptor.name);
  return names;
}

FaultRequirements requirements_of(const std::string& name) {
  FaultRequirements requirements;
  if (const auto* descriptor = detail::find_fault(name)) {
    requirements.tls = descriptor->requires_tls;
    requirements.proxy = descriptor->requires_proxy;
  }
  return requirements;
}

std::string validate(const FaultConfig& config) {
  using detail::FaultLevel;
  const auto* descriptor = detail::find_fault(config.name);
  if (descriptor == nullptr) {
    std::string known;
    for (const auto& name : fault_names()) known += (known.empty() ? "" : ", ") + name;
    return "unknown fault " + quote(config.name, 80, '\'') + " (expected one of: " + known + ")";
  }
  for (const auto& [name, value] : config.parameters) {
    auto spec =
        std::find_if(descriptor->parameters.begin(), descriptor->parameters.end(),
                     // (A named capture: clang before 16 cannot capture a binding.)
                     [&, &key = name](const detail::ParameterSpec& p) { return p.name == key; });
    if (spec == descriptor->parameters.end()) {
      return config.name + ": unknown parameter " + quote(name, 80, '\'') +
             " (expected: " + detail::join_parameter_names(*descriptor) + ")";
    }
    if (!detail::value_is_valid(spec->kind, value)) {
      return config.name + ": parameter '" + name + "' is " + quote(value, 80, '\'') +
             ", expected " + std::string(detail::expectation(spec->kind));
    }
  }
  for (const auto& name : descriptor->required) {
    if (!config.parameters.contains(name)) {
      return config.name + ": missing parameter '" + name + "'";
    }
  }
  const auto& target = config.target;
  if ((target.connection && *target.connection == 0) || (target.request && *target.request == 0)) {
    return config.name + ": target connection and request are numbered from 1";
  }
  if ((target.connection_last &&
       (!target.connection || *target.connection_last < *target.connection)) ||
      (target.request_last && (!target.request || *target.request_last < *target.request))) {
    return config.name + ": a target range N-M needs N <= M";
  }
  if (target.path && (target.path->empty() || target.path->front() != '/')) {
    return config.name + ": target path " + quote(*target.path, 80, '\'') + " must start with '/'";
  }
  if (target.listener && !is_ip_address(*target.listener)) {
    return config.name + ": target listener " + quote(*target.listener, 80, '\'') +
           " is not an IP address such as 127.0.0.1 or ::1";
  }
  const auto level = detail::level_of(*descriptor, detail::Parameters{config.parameters});
  if (level != FaultLevel::request && (target.request || target.path)) {
    return config.name + ": acts on connections, so it can target a connection but not a " +
           (target.request ? "request" : "path");
  }
  if (descriptor->check) {
    if (auto error = descriptor->check(detail::Parameters{config.parameters}); !error.empty()) {
      return config.name + ": " + error;
    }
  }
  return {};
}

}  // namespace tunedhttp::mockserver
