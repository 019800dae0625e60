#pragma once
// Fault descriptions: what the scenario files and `serve --fault` say, before validation.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tunedhttp::mockserver {

/// Which connections or requests a fault applies to. All empty = every one. Connections and
/// requests are counted from 1, from when the fault was set: the server's start for the
/// faults it starts with, the change that added it for one set while it runs
/// (Server::set_faults, add_fault), so `request:1-3` is "the next three requests fail".
struct FaultTarget {
  std::optional<std::uint64_t> connection;  ///< only the n-th accepted connection (from 1) ...
  std::optional<std::uint64_t> request;     ///< only the n-th request read (from 1) ...
  std::optional<std::string> path;          ///< only requests for this path.
  /// Only connections accepted on this listening address ("::1", "127.0.0.1"; a server may
  /// listen on several, ServerOptions::listen_addresses).
  std::optional<std::string> listener;
  /// ... or, when set, connections `connection` to `connection_last` (`connection:2-4`).
  std::optional<std::uint64_t> connection_last{};
  /// ... or, when set, requests `request` to `request_last` (`request:1-3`).
  std::optional<std::uint64_t> request_last{};
};

/// A fault by name with its parameters as text, e.g. {"hold_headers", {{"for", "2s"}}}.
/// Names: fault_names() (see docs/faults.md).
struct FaultConfig {
  std::string name;
  std::map<std::string, std::string> parameters;
  FaultTarget target;
};

/// The names of all registered faults.
std::vector<std::string> fault_names();

/// Checks a config: known name, known parameters, parsable values. Returns an error message
/// naming the fault and what is wrong, or empty when valid.
std::string validate(const FaultConfig& config);

/// What a fault needs of the server it is set on; a server without it refuses the fault.
struct FaultRequirements {
  bool tls = false;  ///< a TLS server (ServerOptions::tls, `serve --tls`)
};

/// What the fault named `name` (a registered name, fault_names()) needs; nothing for others.
FaultRequirements requirements_of(const std::string& name);

/// Parses a `serve --fault` SPEC: `stall-accept`, `stall-accept=2s`, `delay-tls-handshake=2s`,
/// `withhold-continue`, `withhold-continue=500ms`, `withhold-continue=reply:417`,
/// `hold-headers`, `hold-headers=5s`, `close-after-requests=N`, `drip-body=...`.
/// Targets: `connection:N`, `connection:N-M`, `request:N`, `request:N-M`, `path:/p`,
/// `listener:ADDRESS`. Throws std::invalid_argument with a one-line message naming the bad SPEC.
FaultConfig parse_fault_spec(const std::string& spec);

/// The SPEC of a valid config, which parse_fault_spec() reads back as the same config:
/// `hold-headers=2s,request:1-3` (the main parameter bare, the others and the targets as
/// `key:value`, in a fixed order).
std::string format_fault_spec(const FaultConfig& config);

}  // namespace tunedhttp::mockserver
