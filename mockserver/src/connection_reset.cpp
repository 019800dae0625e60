// The mechanism of reset (faults/reset.cpp): the server closes with a TCP reset, not a FIN.
#include <sys/socket.h>

#include "connection.hpp"

namespace tunedhttp::mockserver::detail {

/// SO_LINGER {on, 0 s} makes close() send an RST and drop whatever is unsent or unread.
void Connection::reset(const char* when, std::uint64_t request) {
  if (closed_) return;
  closed_ = true;
  const linger abortive{1, 0};
  ::setsockopt(lowest().native_handle(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  timer_.cancel();
  lowest().close(ignored_);
  // Logged after the RST is sent: whoever waits for this event may rely on it.
  server_->record(EventKind::reset_sent, number_, request, when);
}

template <typename Stream>
awaitable<bool> Connection::reset_when_idle(Stream& stream) {
  using namespace asio::experimental::awaitable_operators;
  timer_.expires_after(*plan_.reset_idle);
  const auto end = co_await stall([&] { return watch_by_reading(stream); });
  if (end == StallEnd::closed) co_return false;
  if (end == StallEnd::data) co_return true;
  // Forgotten: wait for the peer's next packet (until stop()), then reset.
  timer_.expires_at(Clock::time_point::max());
  co_await (wait_timer() || lowest().async_wait(tcp::socket::wait_read, as_tuple_awaitable));
  reset("idle", 0);
  co_return false;
}

template awaitable<bool> Connection::reset_when_idle(tcp::socket&);
template awaitable<bool> Connection::reset_when_idle(TlsStream&);

}  // namespace tunedhttp::mockserver::detail
