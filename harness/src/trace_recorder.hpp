#pragma once
// The client-wide trace, recorded for the runner's checks and waits. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <tunedhttp/trace.hpp>
#include <vector>

namespace tunedhttp::harness::detail {

class TraceRecorder {
 public:
  /// Appends an event and wakes waiters. Called by the client on its strand.
  void record(const TraceEvent& event) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(event);
    }
    changed_.notify_all();
  }

  /// A copy of all events so far.
  std::vector<TraceEvent> snapshot() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

  /// Waits until `found(events)` returns a non-null event pointer, or the deadline passes.
  /// Returns a copy of that event, or false (with `out` untouched) on timeout.
  template <class Finder>
  bool wait_for(Finder found, std::chrono::steady_clock::time_point deadline, TraceEvent& out) {
    std::unique_lock lock(mutex_);
    const TraceEvent* event = nullptr;
    changed_.wait_until(lock, deadline, [&] { return (event = found(events_)) != nullptr; });
    if (event == nullptr) return false;
    out = *event;
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<TraceEvent> events_;
};

}  // namespace tunedhttp::harness::detail
