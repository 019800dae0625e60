#pragma once
// Sends one request's trace events to the client-wide and per-request hooks.

#include <tunedhttp/trace.hpp>
#include <utility>

namespace tunedhttp::detail {

/// Stamps events with the request and connection numbers and the time, then calls the hooks.
class Tracer {
 public:
  Tracer(const TraceHook* client_hook, TraceHook request_hook, std::uint64_t request)
      : client_hook_(client_hook),
        request_hook_(std::move(request_hook)),
        request_(request),
        enabled_((client_hook_ && *client_hook_) || request_hook_) {}

  /// True when anyone listens: callers may skip building details otherwise. (Both hooks are
  /// fixed once made: the client's is in its options, the request's in this object.)
  bool enabled() const { return enabled_; }

  void set_connection(std::uint64_t connection) { connection_ = connection; }
  std::uint64_t request() const { return request_; }

  /// Records `point` now. Call it before arming the timer the point starts. Without a detail,
  /// an untraced request pays for one test of a flag (this is called about ten times per
  /// request).
  void emit(TracePoint point, boost::system::error_code error = {}) {
    if (enabled_) record(point, error, {});
  }
  /// As above, with a detail.
  void emit(TracePoint point, boost::system::error_code error, std::string detail) {
    if (enabled_) record(point, error, std::move(detail));
  }

  /// Records a prepared event, filling in the numbers.
  void emit(TraceEvent& event) {
    if (!enabled_) return;
    event.connection = connection_;
    event.request = request_;
    if (client_hook_ && *client_hook_) (*client_hook_)(event);
    if (request_hook_) request_hook_(event);
  }

 private:
  void record(TracePoint point, boost::system::error_code error, std::string detail) {
    TraceEvent event;
    event.point = point;
    event.at = std::chrono::steady_clock::now();
    event.error = error;
    event.detail = std::move(detail);
    emit(event);
  }

  const TraceHook* client_hook_;
  TraceHook request_hook_;
  std::uint64_t request_;
  std::uint64_t connection_ = 0;
  bool enabled_;
};

}  // namespace tunedhttp::detail
