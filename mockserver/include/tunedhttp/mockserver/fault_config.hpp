#pragma once
// Fault descriptions: what the scenario files and `serve --fault` say, before validation.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tunedhttp::mockserver {

/// Which connections or requests a fault applies to. All empty = every one.
struct FaultTarget {
  std::optional<std::uint64_t> connection;  ///< only the n-th accepted connection (from 1).
  std::optional<std::uint64_t> request;     ///< only the n-th request of the server (from 1).
  std::optional<std::string> path;          ///< only requests for this path.
  /// Only connections accepted on this listening address ("::1", "127.0.0.1"; a server may
  /// listen on several, ServerOptions::listen_addresses).
  std::optional<std::string> listener;
};

/// A fault by name with its parameters as text, e.g. {"hold_headers", {{"for", "2s"}}}.
/// Names: stall_accept, delay_tls_handshake, withhold_continue, hold_headers,
/// close_after_requests, drip_body (see docs/faults.md).
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

/// Parses a `serve --fault` SPEC: `stall-accept`, `stall-accept=2s`, `delay-tls-handshake=2s`,
/// `withhold-continue`, `withhold-continue=500ms`, `withhold-continue=reply:417`,
/// `hold-headers`, `hold-headers=5s`, `close-after-requests=N`, `drip-body=...`.
/// Throws std::invalid_argument with a one-line message naming the bad SPEC.
FaultConfig parse_fault_spec(const std::string& spec);

}  // namespace tunedhttp::mockserver
