#pragma once
// Counters of the client's connection pool.

#include <cstdint>
#include <map>
#include <string>

namespace tunedhttp {

/// Why the pool closed a connection or refused to keep it.
enum class CloseReason {
  idle_timeout,   ///< `idle_conn` expired while idle.
  host_cap,       ///< returned to a host list already holding `max_host_idle_conns`.
  global_cap,     ///< evicted as least recently idled past `max_all_idle_conns`.
  server_closed,  ///< the server closed it (seen while idle or at reuse).
  not_reusable,   ///< the exchange left it out of sync: Connection: close, unread body, ...
  error,          ///< the request failed on it (including timeouts).
  client_closed,  ///< close_idle_connections() or the client's destruction.
  dead_peer,      ///< TCP keep-alive probes went unanswered while idle (a black-holed peer).
};

/// Every CloseReason, in declaration order.
inline constexpr CloseReason all_close_reasons[] = {
    CloseReason::idle_timeout,  CloseReason::host_cap,     CloseReason::global_cap,
    CloseReason::server_closed, CloseReason::not_reusable, CloseReason::error,
    CloseReason::client_closed, CloseReason::dead_peer,
};

/// Stable snake_case name of a close reason ("host_cap").
const char* close_reason_name(CloseReason reason);

/// A snapshot of the pool's counters since the client was made.
struct PoolStats {
  std::uint64_t dials = 0;    ///< successful new connections (TCP, and TLS when https).
  std::uint64_t reuses = 0;   ///< requests served on a connection taken from the idle pool.
  std::uint64_t retries = 0;  ///< requests retried once on a new connection after a stale one.
  std::uint64_t idle = 0;     ///< idle connections now, over all hosts.
  std::map<std::string, std::uint64_t> idle_per_host;     ///< key "http://127.0.0.1:8080".
  std::map<CloseReason, std::uint64_t> closes_by_reason;  ///< closes so far, by reason.

  /// Connections closed for `reason` so far (0 when none).
  std::uint64_t closes(CloseReason reason) const {
    const auto found = closes_by_reason.find(reason);
    return found == closes_by_reason.end() ? 0 : found->second;
  }
};

}  // namespace tunedhttp
