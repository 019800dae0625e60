#pragma once
// The idle connection pool: per-host LIFO lists, one LRU over all hosts, a timer per connection.

#include <boost/asio/experimental/concurrent_channel.hpp>
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

/// A request waiting for a connection while its own dial is under way (Go's wantConn). Whichever
/// comes first delivers: a connection another request puts back, or the dial's result.
struct ConnWaiter {
  explicit ConnWaiter(const boost::asio::any_io_executor& executor, std::string key_in)
      : delivery(executor, 1), key(std::move(key_in)) {}
  /// Receives exactly one delivery: (error, nullptr) or ({}, connection).
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code,
                                                     std::shared_ptr<Connection>)>
      delivery;
  const std::string key;
  bool satisfied = false;  ///< guarded by the pool's mutex
};

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

  /// Like take(), but when no idle connection is there, queues `waiter` in the same critical
  /// section, so a connection put back from now on is delivered to it (Go's queueForIdleConn).
  std::shared_ptr<Connection> take_or_wait(const std::shared_ptr<ConnWaiter>& waiter,
                                           std::chrono::nanoseconds& idle_time);

  /// Takes a cancelled request's waiter out of the queue (Go's wantConn.cancel), so neither its
  /// own dial nor a connection another request puts back is handed to it; both are pooled.
  void cancel_waiter(const std::shared_ptr<ConnWaiter>& waiter);

  /// Delivers a dial's result to `waiter` unless a put already satisfied it. Returns false when
  /// it was already satisfied: the caller then offers a dialed connection to put().
  bool deliver_dial(const std::shared_ptr<ConnWaiter>& waiter, boost::system::error_code error,
                    const std::shared_ptr<Connection>& connection);

  /// Offers a connection back after a clean exchange. Returns nullopt when it was pooled, or the
  /// reason it was closed instead (host cap). May evict another host's LRU connection.
  /// A waiter for the same host takes it first, as in Go's tryPutIdleConn.
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

  std::shared_ptr<Connection> take_locked(const std::string& key,
                                          std::chrono::nanoseconds& idle_time,
                                          std::vector<ClosedEvent>& closed);
  void remove_idle_locked(const std::shared_ptr<Connection>& connection);
  void close_locked(const std::shared_ptr<Connection>& connection, CloseReason reason,
                    std::vector<ClosedEvent>& closed);
  /// The watch saw the idle socket readable: closes it (server_closed) if it is still the same
  /// idle spell and the socket is at EOF or out of sync.
  void close_if_dead_while_idle(const std::shared_ptr<Connection>& connection,
                                std::uint64_t generation);
  void arm_idle_timer(const std::shared_ptr<Connection>& connection,
                      std::chrono::steady_clock::time_point deadline);
  void idle_timer_fired(const std::shared_ptr<Connection>& connection);
  void watch_while_idle(const std::shared_ptr<Connection>& connection, std::uint64_t generation);
  void report(const std::vector<ClosedEvent>& closed) const;

  const Settings settings_;
  const TraceHook trace_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::shared_ptr<Connection>>> idle_by_host_;  // MRU at end
  std::list<std::shared_ptr<Connection>> idle_lru_;  // least recently idled at front
  std::map<std::string, std::list<std::shared_ptr<ConnWaiter>>> waiters_;  // oldest at front
  PoolStats counters_;
  bool close_returning_ = false;  ///< set by close_all(), cleared by the next take
};

}  // namespace tunedhttp::detail
