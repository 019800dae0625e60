#include "idle_conn_pool.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>

namespace tunedhttp::detail {
namespace {

// A connection that is idle must have nothing to say: EOF means the server closed it, and
// unsolicited bytes on plain HTTP mean it is out of sync. TLS 1.3 servers send session tickets
// after the handshake, so for TLS only EOF or an error count as dead.
// Why an idle connection can no longer be used, or nullopt when it still can.
std::optional<CloseReason> why_dead(Connection& connection) {
  char byte = 0;
  const auto n = ::recv(connection.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return CloseReason::server_closed;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
    // The kernel gave up on keep-alive probes: the peer is gone without a word.
    return errno == ETIMEDOUT ? CloseReason::dead_peer : CloseReason::server_closed;
  }
  if (connection.tls) return std::nullopt;
  return CloseReason::server_closed;
}

// Hands a delivery to the waiter on its own executor. Sending directly could resume the
// waiting request inline, on our stack and under our lock.
void send_to(const std::shared_ptr<ConnWaiter>& waiter, boost::system::error_code error,
             const std::shared_ptr<Connection>& connection) {
  boost::asio::post(waiter->delivery.get_executor(),
                    [waiter, error, connection] { waiter->delivery.try_send(error, connection); });
}

}  // namespace

IdleConnPool::IdleConnPool(const Settings& settings, TraceHook trace)
    : settings_(settings), trace_(std::move(trace)) {}

std::shared_ptr<Connection> IdleConnPool::take(const std::string& key,
                                               std::chrono::nanoseconds& idle_time) {
  std::vector<ClosedEvent> closed;
  std::shared_ptr<Connection> found;
  {
    std::lock_guard lock(mutex_);
    found = take_locked(key, idle_time, closed);
  }
  report(closed);
  return found;
}

std::shared_ptr<Connection> IdleConnPool::take_or_wait(const std::shared_ptr<ConnWaiter>& waiter,
                                                       std::chrono::nanoseconds& idle_time) {
  std::vector<ClosedEvent> closed;
  std::shared_ptr<Connection> found;
  {
    std::lock_guard lock(mutex_);
    found = take_locked(waiter->key, idle_time, closed);
    if (!found) waiters_[waiter->key].push_back(waiter);
  }
  report(closed);
  return found;
}

void IdleConnPool::cancel_waiter(const std::shared_ptr<ConnWaiter>& waiter) {
  {
    std::lock_guard lock(mutex_);
    if (!waiter->satisfied) {
      waiter->satisfied = true;
      if (auto queue = waiters_.find(waiter->key); queue != waiters_.end()) {
        queue->second.remove(waiter);
        if (queue->second.empty()) waiters_.erase(queue);
      }
    }
  }
  waiter->delivery.cancel();
}

bool IdleConnPool::deliver_dial(const std::shared_ptr<ConnWaiter>& waiter,
                                boost::system::error_code error,
                                const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  if (waiter->satisfied) return false;
  waiter->satisfied = true;
  if (auto queue = waiters_.find(waiter->key); queue != waiters_.end()) {
    queue->second.remove(waiter);
    if (queue->second.empty()) waiters_.erase(queue);
  }
  send_to(waiter, error, connection);
  return true;
}

std::shared_ptr<Connection> IdleConnPool::take_locked(const std::string& key,
                                                      std::chrono::nanoseconds& idle_time,
                                                      std::vector<ClosedEvent>& closed) {
  close_returning_ = false;
  const auto now = std::chrono::steady_clock::now();
  for (auto host = idle_by_host_.find(key); host != idle_by_host_.end() && !host->second.empty();
       host = idle_by_host_.find(key)) {
    auto candidate = host->second.back();
    remove_idle_locked(candidate);
    const bool too_old = settings_.idle_conn > std::chrono::nanoseconds::zero() &&
                         now - candidate->idle_since >= settings_.idle_conn;
    if (too_old) {
      close_locked(candidate, CloseReason::idle_timeout, closed);
    } else if (const auto dead = why_dead(*candidate)) {
      close_locked(candidate, *dead, closed);
    } else {
      idle_time = now - candidate->idle_since;
      candidate->reused = true;
      ++counters_.reuses;
      return candidate;
    }
  }
  return nullptr;
}

std::optional<CloseReason> IdleConnPool::put(const std::shared_ptr<Connection>& connection) {
  std::vector<ClosedEvent> closed;
  std::optional<CloseReason> refused;
  {
    std::lock_guard lock(mutex_);
    if (auto queue = waiters_.find(connection->key); queue != waiters_.end()) {
      // A request is dialing for this host: hand it this connection now; its dial, when done,
      // comes back here as a spare.
      auto waiter = queue->second.front();
      queue->second.pop_front();
      if (queue->second.empty()) waiters_.erase(queue);
      waiter->satisfied = true;
      connection->reused = true;
      ++counters_.reuses;
      send_to(waiter, {}, connection);
      return std::nullopt;
    }
    auto& list = idle_by_host_[connection->key];
    if (close_returning_) {
      // Go's closeIdle: after close_idle_connections(), connections in flight are closed when
      // they come back, until a request asks for a connection again.
      refused = CloseReason::client_closed;
      connection->close();
      ++counters_.closes_by_reason[close_reason_name(CloseReason::client_closed)];
    } else if (static_cast<int>(list.size()) >= effective_max_host_idle_conns(settings_)) {
      refused = CloseReason::host_cap;
      connection->close();
      ++counters_.closes_by_reason[close_reason_name(CloseReason::host_cap)];
    } else {
      connection->idle = true;
      connection->reused = false;
      connection->idle_since = std::chrono::steady_clock::now();
      const auto generation = ++connection->idle_generation;
      list.push_back(connection);
      connection->lru_position = idle_lru_.insert(idle_lru_.end(), connection);
      if (settings_.max_all_idle_conns > 0 &&
          idle_lru_.size() > static_cast<std::size_t>(settings_.max_all_idle_conns)) {
        auto oldest = idle_lru_.front();
        remove_idle_locked(oldest);
        close_locked(oldest, CloseReason::global_cap, closed);
      }
      // A timer still armed from an earlier put ends no later than this one would: it re-arms
      // itself for the rest when it fires (idle_timer_fired), so a connection reused many
      // times a second costs no timer syscall or cancellation per request.
      if (settings_.idle_conn > std::chrono::nanoseconds::zero() && connection->idle &&
          !connection->idle_timer_armed) {
        arm_idle_timer(connection, connection->idle_since + settings_.idle_conn);
      }
      if (connection->idle) watch_while_idle(connection, generation);
    }
  }
  report(closed);
  return refused;
}

void IdleConnPool::arm_idle_timer(const std::shared_ptr<Connection>& connection,
                                  std::chrono::steady_clock::time_point deadline) {
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
  std::vector<ClosedEvent> closed;
  {
    std::lock_guard lock(mutex_);
    connection->idle_timer_armed = false;
    if (!connection->idle) return;  // in use: its next put arms the timer again
    // Measured from the latest put: a connection put back since the timer was armed has time
    // left, and is never closed before idle_conn has passed.
    const auto deadline = connection->idle_since + settings_.idle_conn;
    if (std::chrono::steady_clock::now() < deadline) {
      arm_idle_timer(connection, deadline);
      return;
    }
    remove_idle_locked(connection);
    close_locked(connection, CloseReason::idle_timeout, closed);
  }
  report(closed);
}

void IdleConnPool::watch_while_idle(const std::shared_ptr<Connection>& connection,
                                    std::uint64_t generation) {
  // Go's readLoop notices a server closing an idle connection at once; so do we: a readable
  // idle socket is either at EOF (closed by the server) or out of sync. TLS 1.3 session tickets
  // also make a socket readable: those connections stay, and are checked again at checkout.
  connection->socket.async_wait(
      boost::asio::ip::tcp::socket::wait_read,
      [weak_pool = weak_from_this(), weak_connection = std::weak_ptr(connection),
       generation](const boost::system::error_code& ec) {
        if (ec) return;
        auto pool = weak_pool.lock();
        auto readable = weak_connection.lock();
        if (!pool || !readable) return;
        pool->close_if_dead_while_idle(readable, generation);
      });
}

void IdleConnPool::close_all(CloseReason reason) {
  std::vector<ClosedEvent> closed;
  {
    std::lock_guard lock(mutex_);
    close_returning_ = true;
    while (!idle_lru_.empty()) {
      auto connection = idle_lru_.front();
      remove_idle_locked(connection);
      close_locked(connection, reason, closed);
    }
  }
  report(closed);
}

void IdleConnPool::count_dial() {
  std::lock_guard lock(mutex_);
  ++counters_.dials;
}

void IdleConnPool::count_retry() {
  std::lock_guard lock(mutex_);
  ++counters_.retries;
}

void IdleConnPool::count_close(CloseReason reason) {
  std::lock_guard lock(mutex_);
  ++counters_.closes_by_reason[close_reason_name(reason)];
}

PoolStats IdleConnPool::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats stats = counters_;
  stats.idle = idle_lru_.size();
  for (const auto& [key, list] : idle_by_host_) {
    if (!list.empty()) stats.idle_per_host[key] = list.size();
  }
  return stats;
}

void IdleConnPool::remove_idle_locked(const std::shared_ptr<Connection>& connection) {
  auto host = idle_by_host_.find(connection->key);
  if (host != idle_by_host_.end()) {
    auto& list = host->second;
    list.erase(std::remove(list.begin(), list.end(), connection), list.end());
    if (list.empty()) idle_by_host_.erase(host);
  }
  idle_lru_.erase(connection->lru_position);
  connection->idle = false;
  ++connection->idle_generation;
  boost::system::error_code ignored;
  connection->socket.cancel(ignored);  // ends watch_while_idle's wait
}

void IdleConnPool::close_locked(const std::shared_ptr<Connection>& connection, CloseReason reason,
                                std::vector<ClosedEvent>& closed) {
  connection->close();
  connection->idle_timer.cancel();
  ++counters_.closes_by_reason[close_reason_name(reason)];
  closed.push_back({connection->id, reason});
}

void IdleConnPool::close_if_dead_while_idle(const std::shared_ptr<Connection>& connection,
                                            std::uint64_t generation) {
  std::vector<ClosedEvent> closed;
  {
    std::lock_guard lock(mutex_);
    if (!connection->idle || connection->idle_generation != generation) return;
    const auto dead = why_dead(*connection);
    if (!dead) return;
    remove_idle_locked(connection);
    close_locked(connection, *dead, closed);
  }
  report(closed);
}

void IdleConnPool::report(const std::vector<ClosedEvent>& closed) const {
  if (!trace_) return;
  for (const auto& event : closed) {
    TraceEvent traced;
    traced.point = TracePoint::idle_conn_closed;
    traced.at = std::chrono::steady_clock::now();
    traced.connection = event.connection;
    traced.detail = close_reason_name(event.reason);
    trace_(traced);
  }
}

}  // namespace tunedhttp::detail
