// Writing the answer a route gives, and the mechanisms that shape it: hold_headers
// (faults/hold_headers.cpp) holds the head, drip_body (faults/drip_body.cpp) writes the body in
// timed pieces, reset=mid-body (faults/reset.cpp) cuts it, stall_body (faults/stall_body.cpp)
// stops it (connection_body_stalls.cpp holds the connection).
#include <cstdio>
#include <sstream>

#include "connection.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

// A generated body (Route::body_size) is written from this many filler bytes at a time, so its
// size costs no memory.
constexpr std::size_t generated_piece = 64 * 1024;

}  // namespace

template <typename Stream>
awaitable<bool> Connection::respond(Stream& stream, const RequestInfo& info,
                                    const RequestPlan& plan,
                                    const http::request<http::string_body>& request) {
  const Route& route = server_->route_for(info.path);
  const bool keep_alive = request.keep_alive() && !route.close;
  http::response<http::empty_body> header{static_cast<http::status>(route.status),
                                          request.version()};
  header.set(http::field::server, "tunedhttp-mockserver");
  for (const auto& [name, value] : route.headers) header.set(name, value);
  const bool generated = route.body_size != 0;
  const std::uint64_t body_length = generated ? route.body_size : route.body.size();
  const bool chunked = route.chunked && request.version() >= 11;
  if (chunked) {
    header.chunked(true);
  } else {
    header.content_length(body_length);
  }
  header.keep_alive(keep_alive);
  std::ostringstream header_stream;
  header_stream << header.base();
  const std::string header_text = header_stream.str();

  bool ok = false;
  std::string_view unsent = header_text;
  if (plan.hold_headers) {
    const auto held_from = Clock::now();
    if (plan.hold_after_status_line) {
      const auto line_end = header_text.find("\r\n") + 2;
      co_await write_text(stream, header_text.substr(0, line_end), ok);
      if (!ok) co_return false;
      unsent.remove_prefix(line_end);
    }
    arm_timer(*plan.hold_headers, held_from);
    const bool held = co_await hold([&] { return watch_by_reading(stream); });
    if (!held) co_return false;
  }
  co_await write_text(stream, std::string(unsent), ok);
  if (!ok) co_return false;
  server_->record(EventKind::response_headers_sent, number_, info.request,
                  std::to_string(route.status) + (plan.hold_headers ? " hold_headers" : ""));

  // reset=mid-body:N sends N bytes of the body, then the reset; stall-body=after:N sends N
  // bytes, then nothing.
  std::uint64_t sent_length = body_length;
  if (plan.reset_after_body_bytes) {
    sent_length = std::min(*plan.reset_after_body_bytes, sent_length);
  }
  if (plan.stall_body_after) sent_length = std::min(*plan.stall_body_after, sent_length);
  if (request.method() != http::verb::head && sent_length != 0) {
    const std::uint64_t piece = plan.drip_chunk ? *plan.drip_chunk : body_length;
    for (std::uint64_t offset = 0; offset < sent_length; offset += piece) {
      if (offset != 0 && plan.drip_chunk) {
        timer_.expires_after(plan.drip_every);
        co_await wait_timer();
        if (closed_) co_return false;
      }
      const auto length = static_cast<std::size_t>(std::min(piece, sent_length - offset));
      std::string size_line;
      if (chunked) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", length);
        size_line = size;
      }
      if (generated) {
        co_await write_generated(stream, size_line, length, chunked ? "\r\n" : "", ok);
      } else {
        const auto data = std::string_view(route.body).substr(offset, length);
        co_await write_text(stream, size_line + std::string(data) + (chunked ? "\r\n" : ""), ok);
      }
      if (!ok) co_return false;
    }
  }
  if (plan.reset_after_body_bytes) {
    reset("mid_body", info.request);
    co_return false;
  }
  if (plan.stall_body_after) {
    co_await stall_body(stream, info.request,
                        request.method() == http::verb::head ? 0 : sent_length);
    co_return false;
  }
  if (chunked && request.method() != http::verb::head) {
    co_await write_text(stream, "0\r\n\r\n", ok);
    if (!ok) co_return false;
  }
  server_->record(EventKind::response_done, number_, info.request,
                  plan.drip_chunk ? "drip_body" : "");
  co_return keep_alive;
}

template <typename Stream>
awaitable<void> Connection::write_generated(Stream& stream, const std::string& prefix,
                                            std::size_t length, const char* suffix, bool& ok) {
  static const std::string filler(generated_piece, 'x');
  ok = true;
  if (!prefix.empty()) co_await write_text(stream, prefix, ok);
  while (ok && length > 0) {
    const std::size_t n = std::min(length, filler.size());
    auto [error, written] =
        co_await asio::async_write(stream, asio::buffer(filler.data(), n), as_tuple_awaitable);
    (void)written;
    ok = !error && !closed_;
    if (error && !closed_) closed_by_peer(error);
    length -= n;
  }
  if (ok && *suffix != '\0') co_await write_text(stream, suffix, ok);
}

template awaitable<bool> Connection::respond(tcp::socket&, const RequestInfo&, const RequestPlan&,
                                             const http::request<http::string_body>&);
template awaitable<bool> Connection::respond(TlsStream&, const RequestInfo&, const RequestPlan&,
                                             const http::request<http::string_body>&);

}  // namespace tunedhttp::mockserver::detail
