#include <algorithm>
#include <optional>
#include <tunedhttp/mockserver/event_log.hpp>

namespace tunedhttp::mockserver {

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::accepted:
      return "accepted";
    case EventKind::tls_done:
      return "tls_done";
    case EventKind::request_headers_read:
      return "request_headers_read";
    case EventKind::continue_sent:
      return "continue_sent";
    case EventKind::body_first_byte:
      return "body_first_byte";
    case EventKind::body_done:
      return "body_done";
    case EventKind::response_headers_sent:
      return "response_headers_sent";
    case EventKind::response_done:
      return "response_done";
    case EventKind::closed_by_peer:
      return "closed_by_peer";
    case EventKind::closed_by_server:
      return "closed_by_server";
    case EventKind::blackholed:
      return "blackholed";
    case EventKind::reset_sent:
      return "reset_sent";
    case EventKind::body_stalled:
      return "body_stalled";
    case EventKind::reading_stopped:
      return "reading_stopped";
    case EventKind::faults_changed:
      return "faults_changed";
    case EventKind::proxy_connect:
      return "proxy_connect";
    case EventKind::proxy_forward:
      return "proxy_forward";
  }
  return "unknown";
}

void EventLog::record(Event event) {
  std::function<void(const Event&)> listener;
  std::optional<Event> for_listener;  // copied only when someone listens
  bool waited_for = false;            // woken only when someone waits
  {
    std::lock_guard lock{mutex_};
    event.seq = ++last_seq_;
    waited_for = waiters_ != 0;
    if (listener_) {
      listener = listener_;
      for_listener = event;
    }
    events_.push_back(std::move(event));
  }
  if (waited_for) changed_.notify_all();
  // Outside the lock, so a listener may read the log.
  if (listener) listener(*for_listener);
}

std::vector<Event> EventLog::snapshot() const {
  std::lock_guard lock{mutex_};
  return {events_.begin(), events_.end()};
}

namespace {

/// The events above `seq` (events are in sequence order).
std::vector<Event> events_after(const std::deque<Event>& events, std::uint64_t seq) {
  auto first = std::upper_bound(events.begin(), events.end(), seq,
                                [](std::uint64_t value, const Event& e) { return value < e.seq; });
  return {first, events.end()};
}

}  // namespace

std::vector<Event> EventLog::after(std::uint64_t seq) const {
  std::lock_guard lock{mutex_};
  return events_after(events_, seq);
}

std::vector<Event> EventLog::wait_after(std::uint64_t seq,
                                        std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock{mutex_};
  ++waiters_;
  changed_.wait_until(lock, deadline, [&] { return last_seq_ > seq; });
  --waiters_;
  return events_after(events_, seq);
}

void EventLog::clear() {
  std::lock_guard lock{mutex_};
  events_.clear();
}

std::optional<Event> EventLog::wait_for(EventKind kind, std::uint64_t connection,
                                        std::chrono::steady_clock::time_point deadline) const {
  return wait_until(
      [&](const Event& event) {
        return event.kind == kind && (connection == 0 || event.connection == connection);
      },
      deadline);
}

std::optional<Event> EventLog::wait_until(const std::function<bool(const Event&)>& predicate,
                                          std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock{mutex_};
  // Checked by sequence number, not position: clear() may empty the log meanwhile.
  std::uint64_t checked = 0;
  auto find = [&]() -> std::optional<Event> {
    auto first =
        std::upper_bound(events_.begin(), events_.end(), checked,
                         [](std::uint64_t value, const Event& e) { return value < e.seq; });
    for (; first != events_.end(); ++first) {
      checked = first->seq;
      if (predicate(*first)) return *first;
    }
    return std::nullopt;
  };
  while (true) {
    if (auto found = find()) return found;
    ++waiters_;
    const auto status = changed_.wait_until(lock, deadline);
    --waiters_;
    if (status == std::cv_status::timeout) return find();
  }
}

void EventLog::set_listener(std::function<void(const Event&)> listener) {
  std::lock_guard lock{mutex_};
  listener_ = std::move(listener);
}

}  // namespace tunedhttp::mockserver
