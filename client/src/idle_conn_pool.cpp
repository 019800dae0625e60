#include "idle_conn_pool.hpp"

#include <sys/socket.h>

#include <boost/asio/post.hpp>

namespace tunedhttp::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Why an idle connection can no longer be used, from what its read returned.
CloseReason why_dead_after(const IdleReadResult& read) {
  // The kernel gave up on keep-alive probes: the peer is gone without a word.
  if (read.error == boost::asio::error::timed_out) return CloseReason::dead_peer;
  return CloseReason::server_closed;
}

// Why an idle connection can no longer be used, or nullopt when it still can. A connection that
// is idle must have nothing to say: EOF means the server closed it, and unsolicited bytes on
// plain HTTP mean it is out of sync. Its read in flight has the answer without a system call once
// the event loop has run it. With `probe`, the socket is also peeked at now (MSG_PEEK), for a
// server close the loop has not seen yet.
//
// TLS bytes are not a verdict: TLS 1.3 servers send session tickets after the handshake, and a
// close_notify comes before the FIN. The request that adopts the read runs them through OpenSSL
// (and is retried if they were a close); so does the watch while the connection stays idle.
std::optional<CloseReason> why_dead(const std::shared_ptr<Connection>& connection, bool probe) {
  const bool tls = connection->tls != nullptr;
  if (const auto read = connection->idle_read.finished()) {
    if (tls && !read->error) return std::nullopt;
    return why_dead_after(*read);
  }
  if (!probe) return std::nullopt;
  char byte = 0;
  const auto n = ::recv(connection->socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return CloseReason::server_closed;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
    return errno == ETIMEDOUT ? CloseReason::dead_peer : CloseReason::server_closed;
  }
  if (tls) return std::nullopt;
  return CloseReason::server_closed;
}

PoolLimits limits_of(const Settings& settings) {
  PoolLimits limits;
  limits.idle_conn = std::max(settings.idle_conn, std::chrono::nanoseconds::zero());
  limits.max_all_idle = static_cast<std::size_t>(std::max(settings.max_all_idle_conns, 0));
  limits.max_host_idle = static_cast<std::size_t>(effective_max_host_idle_conns(settings));
  return limits;
}

}  // namespace

IdleConnPool::IdleConnPool(const Settings& settings, TraceHook trace)
    : trace_(std::move(trace)), machine_(limits_of(settings)) {}

std::shared_ptr<Connection> IdleConnPool::take(const std::string& key,
                                               std::chrono::nanoseconds& idle_time, bool probe) {
  return take_with(nullptr, key, idle_time, probe);
}

std::shared_ptr<Connection> IdleConnPool::take_or_wait(const std::shared_ptr<ConnWaiter>& waiter,
                                                       std::chrono::nanoseconds& idle_time,
                                                       bool probe) {
  return take_with(waiter, waiter->key, idle_time, probe);
}

std::shared_ptr<Connection> IdleConnPool::take_with(const std::shared_ptr<ConnWaiter>& waiter,
                                                    const std::string& key,
                                                    std::chrono::nanoseconds& idle_time,
                                                    bool probe) {
  std::vector<Closed> closed;
  Machine::Taken taken;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const auto why = [probe](const std::shared_ptr<Connection>& idle) {
      return why_dead(idle, probe);
    };
    taken = waiter ? machine_.take_or_wait(key, waiter, now, closed, why)
                   : machine_.take(key, now, closed, why);
  }
  close_and_report(closed);
  if (!taken.connection) return nullptr;
  idle_time = taken.idle_time;
  (*taken.connection)->reused = true;
  return std::move(*taken.connection);
}

void IdleConnPool::cancel_waiter(const std::shared_ptr<ConnWaiter>& waiter) {
  {
    std::lock_guard lock(mutex_);
    machine_.cancel(waiter);
  }
  waiter->delivery.cancel();
}

bool IdleConnPool::deliver_dial(const std::shared_ptr<ConnWaiter>& waiter,
                                boost::system::error_code error,
                                const std::shared_ptr<Connection>& connection) {
  {
    std::lock_guard lock(mutex_);
    if (!machine_.dial_done(waiter)) return false;
  }
  hand_off(waiter, error, connection);
  return true;
}

void IdleConnPool::hand_off(const std::shared_ptr<ConnWaiter>& waiter,
                            boost::system::error_code error,
                            const std::shared_ptr<Connection>& connection) {
  boost::asio::post(waiter->delivery.get_executor(),
                    [pool = shared_from_this(), waiter, error, connection] {
                      pool->hand_off_landed(waiter, error, connection);
                    });
}

void IdleConnPool::hand_off_landed(const std::shared_ptr<ConnWaiter>& waiter,
                                   boost::system::error_code error,
                                   const std::shared_ptr<Connection>& connection) {
  HandOff verdict;
  {
    std::lock_guard lock(mutex_);
    verdict = machine_.landed(waiter);
  }
  switch (verdict) {
    case HandOff::deliver_reused:
      connection->reused = true;
      waiter->delivery.try_send(error, connection);
      break;
    case HandOff::deliver_dialed:
      waiter->delivery.try_send(error, connection);
      break;
    case HandOff::put_back:
      // The request was cancelled while the connection was on its way: it goes back to the
      // pool (or to the next waiter), counted and traced like any other.
      if (connection) put(connection);
      break;
  }
}

std::optional<CloseReason> IdleConnPool::put(const std::shared_ptr<Connection>& connection) {
  std::vector<Closed> closed;
  Machine::PutResult result;
  {
    std::lock_guard lock(mutex_);
    result = machine_.put(connection, connection->key, Clock::now(), closed);
    if (!result.refused && !result.handed_to) {
      connection->reused = false;
      // A timer still armed from an earlier put ends no later than this one would: it re-arms
      // itself for the rest when it fires (idle_timer_fired), so a connection reused many
      // times a second costs no timer syscall or cancellation per request.
      if (result.idle_deadline && !connection->idle_timer_armed) {
        arm_idle_timer(connection, *result.idle_deadline);
      }
      watch_while_idle(connection, result.spell);
    }
    if (result.refused) connection->close();
  }
  if (result.handed_to) hand_off(*result.handed_to, {}, connection);
  close_and_report(closed);
  return result.refused;
}

void IdleConnPool::arm_idle_timer(const std::shared_ptr<Connection>& connection,
                                  Clock::time_point deadline) {
  connection->idle_timer_armed = true;
  connection->idle_timer.expires_at(deadline);
  connection->idle_timer.async_wait(
      [weak_pool = weak_from_this(),
       weak_connection = std::weak_ptr(connection)](const boost::system::error_code& ec) {
        if (ec) return;  // cancelled only when the connection is closed
        auto pool = weak_pool.lock();
        auto expired = weak_connection.lock();
        if (pool && expired) pool->idle_timer_fired(expired);
      });
}

void IdleConnPool::idle_timer_fired(const std::shared_ptr<Connection>& connection) {
  {
    std::lock_guard lock(mutex_);
    connection->idle_timer_armed = false;
    const auto verdict = machine_.idle_timer_fired(connection, Clock::now());
    if (verdict.rearm_at) arm_idle_timer(connection, *verdict.rearm_at);
    if (!verdict.close) return;
  }
  close_and_report({Closed{connection, CloseReason::idle_timeout}});
}

void IdleConnPool::watch_while_idle(const std::shared_ptr<Connection>& connection,
                                    std::uint64_t spell) {
  // Go's readLoop notices a server closing an idle connection at once; so do we, with a read
  // the next request adopts (idle_read.hpp). A TLS connection's read is of ciphertext, into its
  // stream's buffer, and touches no OpenSSL state: a request may take the connection and write
  // on another thread while it is in flight.
  if (!connection->idle_read.judged()) {
    // Once per connection; its reads are then started with their spell alone.
    connection->idle_read.judge_with(
        [weak_pool = weak_from_this(), weak_connection = std::weak_ptr(connection)](
            const IdleReadResult& read, std::uint64_t read_spell) {
          if (read.error == boost::asio::error::operation_aborted) return;  // closed
          auto pool = weak_pool.lock();
          auto readable = weak_connection.lock();
          if (!pool || !readable) return;
          pool->close_if_dead_while_idle(readable, read_spell);
        });
  }
  connection->idle_read.start(connection->socket, connection->idle_read_buffer(), spell);
}

void IdleConnPool::close_if_dead_while_idle(const std::shared_ptr<Connection>& connection,
                                            std::uint64_t spell) {
  std::optional<CloseReason> dead;
  {
    std::lock_guard lock(mutex_);
    // Under the pool's lock the connection cannot be taken, so OpenSSL is ours to run.
    dead = machine_.dead_while_idle(connection, spell, [&](const std::shared_ptr<Connection>&) {
      return why_dead_while_idle(connection, spell);
    });
  }
  if (dead) close_and_report({Closed{connection, *dead}});
}

std::optional<CloseReason> IdleConnPool::why_dead_while_idle(
    const std::shared_ptr<Connection>& connection, std::uint64_t spell) {
  if (!connection->tls) return why_dead(connection, false);
  const auto read = connection->idle_read.take_finished();
  if (!read) return std::nullopt;
  if (read->error) return why_dead_after(*read);
  // Session tickets or a key update: absorbed, and the connection is watched again.
  connection->tls->commit_raw(read->bytes);
  if (!connection->tls->absorb_idle_records()) return CloseReason::server_closed;
  watch_while_idle(connection, spell);
  return std::nullopt;
}

void IdleConnPool::close_all(CloseReason reason) {
  std::vector<Closed> closed;
  {
    std::lock_guard lock(mutex_);
    machine_.close_all(reason, closed);
  }
  close_and_report(closed);
}

void IdleConnPool::count_dial() {
  std::lock_guard lock(mutex_);
  machine_.count_dial();
}

void IdleConnPool::count_retry() {
  std::lock_guard lock(mutex_);
  machine_.count_retry();
}

void IdleConnPool::count_close(CloseReason reason) {
  std::lock_guard lock(mutex_);
  machine_.count_close(reason);
}

PoolStats IdleConnPool::stats() const {
  std::lock_guard lock(mutex_);
  return machine_.stats();
}

void IdleConnPool::close_and_report(const std::vector<Closed>& closed) const {
  if (closed.empty()) return;
  {
    // Under the lock: an idle timer's handler on another thread may be re-arming it.
    std::lock_guard lock(mutex_);
    for (const auto& [connection, reason] : closed) {
      connection->close();
      connection->idle_timer.cancel();
    }
  }
  if (!trace_) return;
  for (const auto& [connection, reason] : closed) {
    TraceEvent traced;
    traced.point = TracePoint::idle_conn_closed;
    traced.at = Clock::now();
    traced.connection = connection->id;
    traced.detail = close_reason_name(reason);
    trace_(traced);
  }
}

}  // namespace tunedhttp::detail
