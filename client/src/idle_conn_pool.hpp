#pragma once
// The idle connection pool: per-host LIFO lists, one LRU over all hosts, a timer per connection.

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tunedhttp/pool_stats.hpp>
#include <tunedhttp/settings.hpp>
#include <tunedhttp/trace.hpp>
#include <vector>

#include "connection.hpp"

namespace tunedhttp::detail {

/// Keeps connections between requests, following Go's Transport (tryPutIdleConn,
/// queueForIdleConn, closeConnIfStillIdle). Thread-safe: one mutex guards the lists, the
/// counters and every idle connection's idle fields and timer.
class IdleConnPool : public std::enable_shared_from_this<IdleConnPool> {
 public:
  /// `trace` receives idle_conn_closed events (connection number, reason in `detail`).
  IdleConnPool(const Settings& settings, TraceHook trace);

  /// The most recently idled live connection for `key` (LIFO), or null. Connections found dead
  /// (closed by the server, or past idle_conn before their timer ran) are closed on the way.
  std::shared_ptr<Connection> take(const std::string& key, std::chrono::nanoseconds& idle_time);

  /// Offers a connection back after a clean exchange. Returns nullopt when it was pooled, or the
  /// reason it was closed instead (host cap). May evict another host's LRU connection.
  std::optional<CloseReason> put(const std::shared_ptr<Connection>& connection);

  /// Closes every idle connection, counting each under `reason`.
  void close_all(CloseReason reason);

  void count_dial();
  void count_retry();
  /// Counts a connection the client closed itself (error, not reusable).
  void count_close(CloseReason reason);

  /// A snapshot of the counters and the idle lists' sizes.
  PoolStats stats() const;

 private:
  struct ClosedEvent {
    std::uint64_t connection;
    CloseReason reason;
  };

  void remove_idle_locked(const std::shared_ptr<Connection>& connection);
  void close_locked(const std::shared_ptr<Connection>& connection, CloseReason reason,
                    std::vector<ClosedEvent>& closed);
  void close_if_still_idle(const std::shared_ptr<Connection>& connection, std::uint64_t generation);
  void report(const std::vector<ClosedEvent>& closed) const;

  const Settings settings_;
  const TraceHook trace_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::shared_ptr<Connection>>> idle_by_host_;  // MRU at end
  std::list<std::shared_ptr<Connection>> idle_lru_;  // least recently idled at front
  PoolStats counters_;
};

}  // namespace tunedhttp::detail
