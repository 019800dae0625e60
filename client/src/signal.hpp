#pragma once
// A one-shot event between two coroutines on the same strand, waited on with a deadline.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace tunedhttp::detail {

/// Set once by notify(); wait_for() returns as soon as it is set, or when the limit passes.
/// Both sides must run on the same strand.
class Signal {
 public:
  explicit Signal(const boost::asio::any_io_executor& executor)
      : timer_(executor, boost::asio::steady_timer::time_point::max()) {}

  void notify() {
    notified_ = true;
    timer_.cancel();
  }

  bool notified() const { return notified_; }

  /// Waits until notified or until `limit` passes (zero or less: no limit). The limit's timer
  /// starts at the call. Returns whether it was notified.
  boost::asio::awaitable<bool> wait_for(std::chrono::nanoseconds limit) {
    if (!notified_) {
      if (limit > std::chrono::nanoseconds::zero()) {
        timer_.expires_after(limit);
      } else {
        timer_.expires_at(boost::asio::steady_timer::time_point::max());
      }
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return notified_;
  }

 private:
  boost::asio::steady_timer timer_;
  bool notified_ = false;
};

}  // namespace tunedhttp::detail
