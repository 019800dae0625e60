// The stalls after the headers: a response body that stops flowing (stall_body,
// faults/stall_body.cpp) and a request body the server stops reading (stop_reading,
// faults/stop_reading.cpp). Both hold the connection open and never answer in full.
#include "connection.hpp"

namespace tunedhttp::mockserver::detail {

template <typename Stream>
awaitable<void> Connection::stall_body(Stream& stream, std::uint64_t request, std::uint64_t sent) {
  server_->record(EventKind::body_stalled, number_, request, std::to_string(sent) + " bytes");
  timer_.expires_at(Clock::time_point::max());
  for (;;) {
    // (Not in the loop's condition: GCC 12 miscompiles co_await inside conditions.)
    const auto end = co_await stall([&] { return watch_by_reading(stream); });
    if (end != StallEnd::data) co_return;
    buffer_.consume(buffer_.size());  // whatever the client sends is never answered
  }
}

template <typename Stream>
awaitable<void> Connection::stop_reading(Stream& stream,
                                         http::request_parser<http::string_body>& parser,
                                         std::uint64_t request, std::uint64_t limit) {
  while (!parser.is_done() && parser.get().body().size() < limit) {
    auto [error, n] = co_await http::async_read_some(stream, buffer_, parser, as_tuple_awaitable);
    (void)n;
    if (closed_) co_return;
    if (error) {
      co_await reject_request(stream, error);
      co_return;
    }
  }
  server_->record(EventKind::reading_stopped, number_, request,
                  std::to_string(parser.get().body().size()) + " bytes");
  // Nothing is read from here on, so the client's close is not seen: its FIN waits behind its
  // own unsent bytes. stop() ends the wait.
  timer_.expires_at(Clock::time_point::max());
  co_await wait_timer();
}

template awaitable<void> Connection::stall_body(tcp::socket&, std::uint64_t, std::uint64_t);
template awaitable<void> Connection::stall_body(TlsStream&, std::uint64_t, std::uint64_t);
template awaitable<void> Connection::stop_reading(tcp::socket&,
                                                  http::request_parser<http::string_body>&,
                                                  std::uint64_t, std::uint64_t);
template awaitable<void> Connection::stop_reading(TlsStream&,
                                                  http::request_parser<http::string_body>&,
                                                  std::uint64_t, std::uint64_t);

}  // namespace tunedhttp::mockserver::detail
