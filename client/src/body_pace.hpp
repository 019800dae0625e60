#pragma once
// The two timers of a response body, without I/O: `body_read_idle` (no byte for D) and
// `low_speed` (curl's LOW_SPEED_LIMIT / LOW_SPEED_TIME). Told when each read of the connection
// starts and what it brought, it says by when the next read must end and, if it does not, which
// error that is. The readers race each read against that deadline; tests feed made-up times.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <tunedhttp/error.hpp>
#include <tunedhttp/settings.hpp>

namespace tunedhttp::detail {

/// curl's rule, exactly: fails at the first moment t, at least `period` after the start, at
/// which fewer than bytes_per_second x period bytes arrived in (t - period, t].
class LowSpeedWatch {
 public:
  using Clock = std::chrono::steady_clock;

  LowSpeedWatch(const LowSpeed& rule, Clock::time_point start)
      : period_(rule.period),
        required_(required_bytes(rule)),
        // Arrivals closer than this share a sample, stamped with the later time: the count of
        // a window is then never too small (never early), and at most 1/32 of the period late.
        resolution_(rule.period / 32),
        start_(start) {}

  /// `bytes` arrived at `at` (times never go back).
  void on_bytes(Clock::time_point at, std::uint64_t bytes) {
    total_ += bytes;
    if (!samples_.empty() && at - samples_.back().opened < resolution_) {
      samples_.back().at = at;
      samples_.back().total = total_;
    } else {
      samples_.push_back({at, at, total_});
    }
    // A sample a whole period old can no longer decide a deadline that has not passed.
    while (!samples_.empty() && samples_.front().at + period_ <= at) samples_.pop_front();
  }

  /// When the rule fails if no more bytes come.
  Clock::time_point deadline() const {
    if (total_ < required_) return start_ + period_;
    // The window (t - period, t] holds total - total_at(t - period) bytes: fewer than required
    // once the first sample holding more than total - required is older than the period.
    const std::uint64_t threshold = total_ - required_;
    for (const auto& sample : samples_) {
      if (sample.total > threshold) return std::max(start_, sample.at) + period_;
    }
    return start_ + period_;  // unreachable: the last sample holds the total
  }

 private:
  static std::uint64_t required_bytes(const LowSpeed& rule) {
    const double seconds = std::chrono::duration<double>(rule.period).count();
    return static_cast<std::uint64_t>(static_cast<double>(rule.bytes_per_second) * seconds);
  }

  struct Sample {
    Clock::time_point opened;  ///< the first arrival merged into it
    Clock::time_point at;      ///< the last arrival merged into it
    std::uint64_t total;       ///< bytes arrived up to and including `at`
  };
  std::chrono::nanoseconds period_;
  std::uint64_t required_;
  std::chrono::nanoseconds resolution_;
  Clock::time_point start_;
  std::uint64_t total_ = 0;
  std::deque<Sample> samples_;  ///< oldest first
};

/// body_read_idle and low_speed together, from the final response headers on.
class BodyPace {
 public:
  using Clock = std::chrono::steady_clock;

  BodyPace(const Settings& settings, Clock::time_point headers_at)
      : idle_(settings.body_read_idle) {
    if (settings.low_speed.enabled()) low_speed_.emplace(settings.low_speed, headers_at);
  }

  /// Whether either timer is on; when not, reads need no deadline.
  bool enabled() const { return idle_ > std::chrono::nanoseconds::zero() || low_speed_; }

  /// A read of the connection starting at `now` must end by this (nullopt: no limit).
  std::optional<Clock::time_point> read_deadline(Clock::time_point now) const {
    std::optional<Clock::time_point> deadline;
    if (idle_ > std::chrono::nanoseconds::zero()) deadline = now + idle_;
    if (low_speed_) {
      const auto slow = low_speed_->deadline();
      deadline = deadline ? std::min(*deadline, slow) : slow;
    }
    return deadline;
  }

  /// The error of a read that started at `started` and reached its deadline: the timer whose
  /// deadline it was (body_read_idle when both fall together).
  errc expired(Clock::time_point started) const {
    if (idle_ > std::chrono::nanoseconds::zero() &&
        (!low_speed_ || started + idle_ <= low_speed_->deadline())) {
      return errc::body_read_idle_timeout;
    }
    return errc::low_speed_timeout;
  }

  /// A read brought `bytes` at `at`.
  void on_bytes(Clock::time_point at, std::uint64_t bytes) {
    if (low_speed_) low_speed_->on_bytes(at, bytes);
  }

 private:
  std::chrono::nanoseconds idle_;
  std::optional<LowSpeedWatch> low_speed_;
};

}  // namespace tunedhttp::detail
