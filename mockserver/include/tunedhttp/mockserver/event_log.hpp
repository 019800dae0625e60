#pragma once
// The mock server's record of what happened on each connection.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tunedhttp::mockserver {

/// What happened.
enum class EventKind {
  accepted,               ///< TCP connection accepted.
  tls_done,               ///< TLS handshake completed.
  request_headers_read,   ///< a request's headers were read.
  continue_sent,          ///< `100 Continue` written.
  body_first_byte,        ///< first byte of a request body arrived.
  body_done,              ///< request body read to the end.
  response_headers_sent,  ///< final response headers written.
  response_done,          ///< response body written.
  closed_by_peer,         ///< the client closed (EOF or reset).
  closed_by_server,       ///< the server closed (fault, Connection: close, stop()).
  blackholed,             ///< the connection went dark: every packet from the peer dropped.
  reset_sent,             ///< the server closed with a TCP reset (RST), not a FIN (fault reset).
  body_stalled,     ///< the response body stopped after the detail's bytes (fault stall_body).
  reading_stopped,  ///< the server stopped reading a request body (fault stop_reading).
  faults_changed,   ///< the faults were changed while running; detail: the SPECs now.
  proxy_connect,    ///< a proxy read a CONNECT; detail: its target, "host:port".
  proxy_forward,    ///< a proxy read an absolute-form request to forward; detail: its target URL.
};

/// Every EventKind, in declaration order (for name lists and tests that must not miss one).
inline constexpr EventKind all_event_kinds[] = {
    EventKind::accepted,
    EventKind::tls_done,
    EventKind::request_headers_read,
    EventKind::continue_sent,
    EventKind::body_first_byte,
    EventKind::body_done,
    EventKind::response_headers_sent,
    EventKind::response_done,
    EventKind::closed_by_peer,
    EventKind::closed_by_server,
    EventKind::blackholed,
    EventKind::reset_sent,
    EventKind::body_stalled,
    EventKind::reading_stopped,
    EventKind::faults_changed,
    EventKind::proxy_connect,
    EventKind::proxy_forward,
};

/// Stable snake_case name ("closed_by_peer").
std::string_view event_kind_name(EventKind kind);

/// One event. Connections are numbered from 1 in accept order; requests from 1 per server.
struct Event {
  EventKind kind;
  std::chrono::steady_clock::time_point at;
  std::uint64_t connection = 0;
  std::uint64_t request = 0;  ///< 0 for connection-level events.
  std::string detail;         ///< e.g. the path, or the fault that acted.
  /// The log's sequence number, from 1, set by EventLog::record(); never reused, not even
  /// after clear(), so a reader can ask for what came after the last event it saw.
  std::uint64_t seq = 0;
};

/// A thread-safe, append-only event log with waiting.
class EventLog {
 public:
  /// Appends an event and wakes waiters.
  void record(Event event);
  /// A copy of all events so far, in order.
  std::vector<Event> snapshot() const;
  /// The events with a sequence number above `seq`, in order.
  std::vector<Event> after(std::uint64_t seq) const;
  /// Waits until an event with a sequence number above `seq` exists or the deadline passes;
  /// returns them (empty at the deadline). A long poll for new events.
  std::vector<Event> wait_after(std::uint64_t seq,
                                std::chrono::steady_clock::time_point deadline) const;
  /// Forgets every event so far (sequence numbers go on from where they were).
  void clear();
  /// Waits until an event of `kind` (on `connection`, if non-zero) exists, or the deadline
  /// passes. Returns the first such event, or nullopt on timeout.
  std::optional<Event> wait_for(EventKind kind, std::uint64_t connection,
                                std::chrono::steady_clock::time_point deadline) const;
  /// Waits until an event satisfying `predicate` exists (checked under the log's lock: keep it
  /// short, don't touch the log from it), or the deadline passes. Returns the first such event.
  std::optional<Event> wait_until(const std::function<bool(const Event&)>& predicate,
                                  std::chrono::steady_clock::time_point deadline) const;
  /// Calls `listener` with each event recorded from now on, on the recording thread (the
  /// server's executor), after the event is in the log. One listener; empty to remove it.
  void set_listener(std::function<void(const Event&)> listener);

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  // A deque: recording never moves the events already kept, so a long run (a benchmark logs
  // millions) pays no growing copy when the storage fills.
  std::deque<Event> events_;
  std::uint64_t last_seq_ = 0;
  mutable int waiters_ = 0;  ///< threads in a wait on changed_ (mutex_): no waiter, no wake-up
  std::function<void(const Event&)> listener_;
};

}  // namespace tunedhttp::mockserver
