#pragma once
// The idle pool's decisions, without I/O: which idle connection a request gets, whether a
// connection coming back is handed to a waiting request, kept or closed, when an idle one has
// expired, and what a cancelled waiter's hand-off becomes. Every rule is Go's Transport
// (transport.go: tryPutIdleConn, queueForIdleConn, wantConn, closeConnIfStillIdle,
// CloseIdleConnections). Time comes in as `now`; nothing here reads a clock, a socket or a lock,
// so tests drive it with plain values and exact times. IdleConnPool carries out what it decides.

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <tunedhttp/pool_stats.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tunedhttp::detail {

/// The pool's limits, already resolved from Settings (defaults applied).
struct PoolLimits {
  std::chrono::nanoseconds idle_conn{0};  ///< 0: an idle connection never expires.
  std::size_t max_all_idle = 0;           ///< 0: no limit over all hosts.
  std::size_t max_host_idle = 2;          ///< per host; Go's DefaultMaxIdleConnsPerHost.
};

/// A connection the machine decided to close, and why; the machine has counted it.
template <class Conn>
struct PoolClosed {
  Conn connection;
  CloseReason reason;
};

/// How a hand-off to a waiting request ends when it reaches the request (landed()).
enum class HandOff {
  deliver_reused,  ///< the request takes a connection another request put back.
  deliver_dialed,  ///< the request takes its own dial's result (a connection or an error).
  put_back,        ///< the request was cancelled meanwhile: offer the connection to put().
};

/// The idle pool's state machine. `Conn` and `Waiter` are handles the caller chooses (a
/// shared_ptr in the client, plain numbers in tests): copyable, comparable, hashable.
template <class Conn, class Waiter>
class IdlePoolMachine {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Closed = PoolClosed<Conn>;

  explicit IdlePoolMachine(PoolLimits limits) : limits_(limits) {}
  // It keeps iterators into its own containers (last_host_).
  IdlePoolMachine(const IdlePoolMachine&) = delete;
  IdlePoolMachine& operator=(const IdlePoolMachine&) = delete;

  /// A connection taken from the pool, and how long it sat idle.
  struct Taken {
    std::optional<Conn> connection;
    std::chrono::nanoseconds idle_time{0};
  };

  /// The most recently idled connection for `key` (LIFO) that is still usable. On the way,
  /// those past idle_conn are appended to `closed` (idle_timeout), and so are those for which
  /// `why_dead(connection)` names a reason (the caller's look at the socket: the server closed
  /// it). Asking for a connection ends close_all()'s closing of returning ones, as in Go.
  template <class WhyDead>
  Taken take(const std::string& key, TimePoint now, std::vector<Closed>& closed,
             WhyDead&& why_dead) {
    close_returning_ = false;
    auto host = find_host(key);
    while (host != idle_by_host_.end() && !host->second.empty()) {
      const auto entry = host->second.back();
      const auto idle_time = now - entry->idle_since;
      Conn connection = remove_idle(entry);
      if (limits_.idle_conn > std::chrono::nanoseconds::zero() && idle_time >= limits_.idle_conn) {
        count_closed(std::move(connection), CloseReason::idle_timeout, closed);
      } else if (const std::optional<CloseReason> dead = why_dead(connection)) {
        count_closed(std::move(connection), *dead, closed);
      } else {
        ++counters_.reuses;
        return Taken{std::move(connection), idle_time};
      }
      host = find_host(key);
    }
    return Taken{};
  }

  /// take(), and when nothing is idle, queues `waiter` for `key` in the same step, so a
  /// connection put back from now on goes to it (Go's queueForIdleConn).
  template <class WhyDead>
  Taken take_or_wait(const std::string& key, const Waiter& waiter, TimePoint now,
                     std::vector<Closed>& closed, WhyDead&& why_dead) {
    auto taken = take(key, now, closed, why_dead);
    if (!taken.connection) {
      waiters_[key].push_back(waiter);
      waiter_states_[waiter] = WaiterState{key, WaiterState::queued};
    }
    return taken;
  }

  /// What put() decided for a returning connection.
  struct PutResult {
    /// Closed instead of kept: the caller closes it (already counted under this reason).
    std::optional<CloseReason> refused;
    /// Handed to this waiting request: deliver it on the waiter's executor, then landed().
    std::optional<Waiter> handed_to;
    /// Kept idle: its idle deadline (when idle_conn is set) and the idle spell's number, for
    /// the watch that notices the server closing it (dead_while_idle()).
    std::optional<TimePoint> idle_deadline;
    std::uint64_t spell = 0;
  };

  /// Go's tryPutIdleConn: a request waiting for this host takes it before any cap applies;
  /// after close_all() it is closed (client_closed) until a request asks again; over the host
  /// cap it is closed (host_cap); otherwise it is kept, and the least recently idled
  /// connection of any host may be evicted past max_all_idle (appended to `closed`).
  PutResult put(const Conn& connection, const std::string& key, TimePoint now,
                std::vector<Closed>& closed) {
    PutResult result;
    if (auto queue = waiters_.find(key); queue != waiters_.end()) {
      const Waiter waiter = queue->second.front();
      queue->second.pop_front();
      if (queue->second.empty()) waiters_.erase(queue);
      waiter_states_.at(waiter).phase = WaiterState::handing_off_reused;
      result.handed_to = waiter;
      return result;
    }
    auto host = find_host(key);
    if (host == idle_by_host_.end()) host = last_host_ = idle_by_host_.try_emplace(key).first;
    auto& list = host->second;
    if (close_returning_ || list.size() >= limits_.max_host_idle) {
      result.refused = close_returning_ ? CloseReason::client_closed : CloseReason::host_cap;
      ++counters_.closes_by_reason[*result.refused];
      return result;
    }
    const auto entry = new_entry(IdleEntry{connection, host, now, ++spells_});
    list.push_back(entry);
    if (spare_index_nodes_.empty()) {
      index_.emplace(index_key(connection), entry);
    } else {
      auto node = std::move(spare_index_nodes_.back());
      spare_index_nodes_.pop_back();
      node.key() = index_key(connection);
      node.mapped() = entry;
      index_.insert(std::move(node));
    }
    result.spell = entry->spell;
    if (limits_.idle_conn > std::chrono::nanoseconds::zero()) {
      result.idle_deadline = now + limits_.idle_conn;
    }
    if (limits_.max_all_idle > 0 && idle_lru_.size() > limits_.max_all_idle) {
      count_closed(remove_idle(idle_lru_.begin()), CloseReason::global_cap, closed);
    }
    return result;
  }

  /// A dial for `waiter` finished. True: the waiter still waits, so deliver the dial's result
  /// to it, then landed(). False: a put() satisfied it first or it was cancelled; offer a
  /// dialed connection to put() (Go keeps such a dial for the pool).
  bool dial_done(const Waiter& waiter) {
    const auto state = waiter_states_.find(waiter);
    if (state == waiter_states_.end() || state->second.phase != WaiterState::queued) {
      return false;
    }
    remove_from_queue(waiter, state->second.key);
    state->second.phase = WaiterState::handing_off_dialed;
    return true;
  }

  /// A hand-off reached `waiter`'s request. A hand-off the request can no longer take (it was
  /// cancelled in between) comes back as put_back: Go's wantConn.cancel returns it to the pool,
  /// never drops it.
  HandOff landed(const Waiter& waiter) {
    const auto state = waiter_states_.find(waiter);
    if (state == waiter_states_.end()) return HandOff::put_back;
    const auto phase = state->second.phase;
    waiter_states_.erase(state);
    switch (phase) {
      case WaiterState::handing_off_reused:
        ++counters_.reuses;
        return HandOff::deliver_reused;
      case WaiterState::handing_off_dialed:
        return HandOff::deliver_dialed;
      default:
        return HandOff::put_back;
    }
  }

  /// The request behind `waiter` was cancelled: it leaves the queue; a hand-off already on its
  /// way becomes put_back when it lands.
  void cancel(const Waiter& waiter) {
    const auto state = waiter_states_.find(waiter);
    if (state == waiter_states_.end()) return;
    if (state->second.phase == WaiterState::queued) {
      remove_from_queue(waiter, state->second.key);
      waiter_states_.erase(state);
    } else {
      state->second.phase = WaiterState::cancelled;
    }
  }

  /// What to do when a connection's idle timer fires.
  struct TimerVerdict {
    bool close = false;                 ///< it expired: close it (counted as idle_timeout).
    std::optional<TimePoint> rearm_at;  ///< it was put back since: its deadline now.
  };

  /// Go's closeConnIfStillIdle, measured from the latest put: a timer armed by an earlier idle
  /// spell re-arms for the rest of the current one instead of closing early. A connection in
  /// use or gone needs nothing.
  TimerVerdict idle_timer_fired(const Conn& connection, TimePoint now) {
    TimerVerdict verdict;
    const auto found = index_.find(index_key(connection));
    if (found == index_.end()) return verdict;
    const auto deadline = found->second->idle_since + limits_.idle_conn;
    if (now < deadline) {
      verdict.rearm_at = deadline;
      return verdict;
    }
    remove_idle(found->second);
    ++counters_.closes_by_reason[CloseReason::idle_timeout];
    verdict.close = true;
    return verdict;
  }

  /// The idle watch saw `connection` readable during idle spell `spell`. When it is still that
  /// spell and `why_dead(connection)` names a reason, it is removed and counted under that
  /// reason, which is returned: the caller closes it. Otherwise nullopt (taken since, or alive).
  template <class WhyDead>
  std::optional<CloseReason> dead_while_idle(const Conn& connection, std::uint64_t spell,
                                             WhyDead&& why_dead) {
    const auto found = index_.find(index_key(connection));
    if (found == index_.end() || found->second->spell != spell) return std::nullopt;
    const std::optional<CloseReason> dead = why_dead(connection);
    if (!dead) return std::nullopt;
    remove_idle(found->second);
    ++counters_.closes_by_reason[*dead];
    return dead;
  }

  /// Go's CloseIdleConnections: every idle connection closes now (appended to `closed`), and
  /// connections in use close when they come back, until a request asks for one.
  void close_all(CloseReason reason, std::vector<Closed>& closed) {
    close_returning_ = true;
    while (!idle_lru_.empty()) {
      count_closed(remove_idle(idle_lru_.begin()), reason, closed);
    }
  }

  /// Whether `connection` is idle in the pool now.
  bool is_idle(const Conn& connection) const { return index_.count(index_key(connection)) != 0; }

  void count_dial() { ++counters_.dials; }
  void count_retry() { ++counters_.retries; }
  /// A connection its request closed (an error, or not reusable).
  void count_close(CloseReason reason) { ++counters_.closes_by_reason[reason]; }

  /// The counters and the idle lists' sizes.
  PoolStats stats() const {
    PoolStats stats = counters_;
    stats.idle = idle_lru_.size();
    for (const auto& [key, list] : idle_by_host_) {
      if (!list.empty()) stats.idle_per_host[key] = list.size();
    }
    return stats;
  }

  /// Requests waiting for `key` (for tests and the stats of tomorrow).
  std::size_t waiting(const std::string& key) const {
    const auto queue = waiters_.find(key);
    return queue == waiters_.end() ? 0 : queue->second.size();
  }

 private:
  struct IdleEntry;
  using EntryIt = typename std::list<IdleEntry>::iterator;
  using HostLists = std::map<std::string, std::vector<EntryIt>>;  // most recently idled at back
  struct IdleEntry {
    Conn connection;
    /// Its host's list in idle_by_host_ (a map's iterators stay valid): removing the entry
    /// needs no second lookup of the key, a string compare or two per level of the tree.
    typename HostLists::iterator host;
    TimePoint idle_since;
    std::uint64_t spell;  ///< unique per put: a watch from an earlier spell is ignored
  };

  struct WaiterState {
    std::string key;
    enum Phase { queued, handing_off_reused, handing_off_dialed, cancelled } phase;
  };

  // A reused request puts its connection back many times a second: the list and index nodes
  // of removed entries are kept (up to max_spare_nodes) and reused, so a put allocates nothing.
  static constexpr std::size_t max_spare_nodes = 64;

  EntryIt new_entry(IdleEntry value) {
    if (spare_entries_.empty()) return idle_lru_.insert(idle_lru_.end(), std::move(value));
    const auto entry = spare_entries_.begin();
    *entry = std::move(value);
    idle_lru_.splice(idle_lru_.end(), spare_entries_, entry);
    return entry;
  }

  // Takes the entry out of every list and returns its connection.
  Conn remove_idle(EntryIt entry) {
    const auto host = entry->host;
    auto& list = host->second;
    for (auto it = list.end(); it != list.begin();) {
      if (*--it == entry) {
        list.erase(it);
        break;
      }
    }
    // An empty host list stays for the next put, unless many hosts come and go.
    if (list.empty() && idle_by_host_.size() > max_spare_nodes) {
      if (last_host_ == host) last_host_ = idle_by_host_.end();
      idle_by_host_.erase(host);
    }
    auto node = index_.extract(index_key(entry->connection));
    if (spare_index_nodes_.size() < max_spare_nodes) {
      node.key() = IndexKey{};
      spare_index_nodes_.push_back(std::move(node));
    }
    Conn removed = std::move(entry->connection);
    entry->connection = Conn{};  // a spare entry holds no connection
    if (spare_entries_.size() < max_spare_nodes) {
      spare_entries_.splice(spare_entries_.end(), idle_lru_, entry);
    } else {
      idle_lru_.erase(entry);
    }
    return removed;
  }

  void remove_from_queue(const Waiter& waiter, const std::string& key) {
    auto queue = waiters_.find(key);
    if (queue == waiters_.end()) return;
    for (auto it = queue->second.begin(); it != queue->second.end(); ++it) {
      if (*it == waiter) {
        queue->second.erase(it);
        break;
      }
    }
    if (queue->second.empty()) waiters_.erase(queue);
  }

  void count_closed(Conn connection, CloseReason reason, std::vector<Closed>& closed) {
    ++counters_.closes_by_reason[reason];
    closed.push_back(Closed{std::move(connection), reason});
  }

  const PoolLimits limits_;
  std::list<IdleEntry> idle_lru_;  // least recently idled at front
  HostLists idle_by_host_;
  // The host list last looked up: a client sends to one host again and again, and comparing its
  // key once is cheaper than the map's search (two three-way compares of the key for one host,
  // about 150 instructions per take and per put). A map's iterators stay valid until erased.
  typename HostLists::iterator last_host_ = idle_by_host_.end();

  // idle_by_host_'s list for `key`, or end().
  typename HostLists::iterator find_host(const std::string& key) {
    if (last_host_ != idle_by_host_.end() && last_host_->first == key) return last_host_;
    const auto found = idle_by_host_.find(key);
    if (found != idle_by_host_.end()) last_host_ = found;
    return found;
  }
  // The index's key for a connection: its address when Conn is a smart pointer (the entry owns
  // the connection; a second owning copy here cost two atomic operations per put and per take),
  // else the value itself.
  static auto index_key(const Conn& connection) {
    if constexpr (requires { connection.get(); }) {
      return static_cast<const void*>(connection.get());
    } else {
      return connection;
    }
  }
  using IndexKey = decltype(index_key(std::declval<const Conn&>()));
  std::unordered_map<IndexKey, EntryIt> index_;
  std::list<IdleEntry> spare_entries_;  // removed entries' nodes, for reuse
  std::vector<typename std::unordered_map<IndexKey, EntryIt>::node_type> spare_index_nodes_;
  std::map<std::string, std::deque<Waiter>> waiters_;  // oldest at front
  std::unordered_map<Waiter, WaiterState> waiter_states_;
  PoolStats counters_;
  std::uint64_t spells_ = 0;
  bool close_returning_ = false;
};

}  // namespace tunedhttp::detail
