#pragma once
// The idle connection pool's driver: IdlePoolMachine's decisions carried out on sockets and timers.

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tunedhttp/pool_stats.hpp>
#include <tunedhttp/settings.hpp>
#include <tunedhttp/trace.hpp>
#include <vector>

#include "connection.hpp"
#include "idle_pool_machine.hpp"

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
};

/// Keeps connections between requests. The decisions are IdlePoolMachine's (Go's rules, no
/// I/O); this class carries them out: it closes sockets, arms the idle timers, watches idle
/// sockets, delivers hand-offs on the waiting request's executor and reports trace events.
/// Thread-safe: one mutex guards the machine and every connection's idle timer.
class IdleConnPool : public std::enable_shared_from_this<IdleConnPool> {
 public:
  /// `trace` receives idle_conn_closed events (connection number, reason in `detail`).
  IdleConnPool(const Settings& settings, TraceHook trace);

  /// The most recently idled live connection for `key` (LIFO), or null. Connections found dead
  /// (closed by the server, or past idle_conn before their timer ran) are closed on the way.
  /// A plain connection is known dead from its idle read once the event loop has run it; with
  /// `probe` it is also peeked at (one recv), for a request that could not be retried if the
  /// server had closed the connection a moment ago (not replayable: Go's rules).
  std::shared_ptr<Connection> take(const std::string& key, std::chrono::nanoseconds& idle_time,
                                   bool probe);

  /// Like take(), but when no idle connection is there, queues `waiter` in the same critical
  /// section, so a connection put back from now on is delivered to it (Go's queueForIdleConn).
  std::shared_ptr<Connection> take_or_wait(const std::shared_ptr<ConnWaiter>& waiter,
                                           std::chrono::nanoseconds& idle_time, bool probe);

  /// Takes a cancelled request's waiter out of the queue (Go's wantConn.cancel). Neither its own
  /// dial nor a connection another request puts back is lost: a hand-off already on its way is
  /// put back into the pool when it arrives.
  void cancel_waiter(const std::shared_ptr<ConnWaiter>& waiter);

  /// Delivers a dial's result to `waiter` unless a put already satisfied it or it was cancelled.
  /// Returns false then: the caller offers a dialed connection to put().
  bool deliver_dial(const std::shared_ptr<ConnWaiter>& waiter, boost::system::error_code error,
                    const std::shared_ptr<Connection>& connection);

  /// Offers a connection back after a clean exchange. Returns nullopt when it was pooled or
  /// handed to a waiting request, or the reason it was closed instead. May evict another
  /// host's least recently idled connection.
  std::optional<CloseReason> put(const std::shared_ptr<Connection>& connection);

  /// Closes every idle connection, counting each under `reason`; connections in use are closed
  /// when they come back, until a request asks for one (Go's CloseIdleConnections).
  void close_all(CloseReason reason);

  void count_dial();
  void count_retry();
  /// Counts a connection the client closed itself (error, not reusable).
  void count_close(CloseReason reason);

  /// A snapshot of the counters and the idle lists' sizes.
  PoolStats stats() const;

 private:
  using Machine = IdlePoolMachine<std::shared_ptr<Connection>, std::shared_ptr<ConnWaiter>>;
  using Closed = Machine::Closed;

  /// take() when `waiter` is null, else take_or_wait().
  std::shared_ptr<Connection> take_with(const std::shared_ptr<ConnWaiter>& waiter,
                                        const std::string& key, std::chrono::nanoseconds& idle_time,
                                        bool probe);
  /// Closes what the machine decided to close and reports it (outside the lock).
  void close_and_report(const std::vector<Closed>& closed) const;
  /// Hands `connection` (or a dial's error) to `waiter` on the waiter's own executor: sending
  /// directly could resume the waiting request inline, on our stack and under our lock.
  void hand_off(const std::shared_ptr<ConnWaiter>& waiter, boost::system::error_code error,
                const std::shared_ptr<Connection>& connection);
  void hand_off_landed(const std::shared_ptr<ConnWaiter>& waiter, boost::system::error_code error,
                       const std::shared_ptr<Connection>& connection);
  void arm_idle_timer(const std::shared_ptr<Connection>& connection,
                      std::chrono::steady_clock::time_point deadline);
  void idle_timer_fired(const std::shared_ptr<Connection>& connection);
  void watch_while_idle(const std::shared_ptr<Connection>& connection, std::uint64_t spell);
  void close_if_dead_while_idle(const std::shared_ptr<Connection>& connection, std::uint64_t spell);
  // The watch's verdict on a connection still idle in `spell`, under the pool's lock: what its
  // completed read says (a TLS connection's bytes are run through OpenSSL first).
  std::optional<CloseReason> why_dead_while_idle(const std::shared_ptr<Connection>& connection,
                                                 std::uint64_t spell);

  const TraceHook trace_;
  mutable std::mutex mutex_;
  Machine machine_;  ///< guarded by mutex_
};

}  // namespace tunedhttp::detail
