// Writing the answer a route gives, and the mechanisms that shape it: hold_headers
// (faults/hold_headers.cpp) holds the head, drip_body (faults/drip_body.cpp) writes the body in
// timed pieces, reset=mid-body (faults/reset.cpp) cuts it, stall_body (faults/stall_body.cpp)
// stops it (connection_body_stalls.cpp holds the connection).
#include <array>
#include <cstdio>
#include <span>
#include <sstream>
#include <type_traits>

#include "connection.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

// A generated body (Route::body_size) is written from this many filler bytes at a time, so its
// size costs no memory.
constexpr std::size_t generated_piece = 64 * 1024;

// A first body piece up to this size is written with the head. Larger ones go after it, so that
// response_headers_sent is logged when the head went, not when a slow reader took the piece.
constexpr std::size_t head_with_body_limit = 16 * 1024;

}  // namespace

const std::string& Connection::response_head(const Route& route, unsigned version,
                                             bool keep_alive) {
  if (head_.route == &route && head_.version == version && head_.keep_alive == keep_alive) {
    return head_.text;
  }
  http::response<http::empty_body> header{static_cast<http::status>(route.status), version};
  header.set(http::field::server, "tunedhttp-mockserver");
  for (const auto& [name, value] : route.headers) header.set(name, value);
  if (route.chunked && version >= 11) {
    header.chunked(true);
  } else {
    header.content_length(route.body_size != 0 ? route.body_size : route.body.size());
  }
  header.keep_alive(keep_alive);
  std::ostringstream text;
  text << header.base();
  head_ = {&route, version, keep_alive, text.str()};
  return head_.text;
}

template <typename Stream>
awaitable<bool> Connection::respond(Stream& stream, const RequestInfo& info,
                                    const RequestPlan& plan,
                                    const http::request<http::string_body>& request) {
  const Route& route = server_->route_for(info.path);
  const bool keep_alive = request.keep_alive() && !route.close;
  const std::string& head = response_head(route, request.version(), keep_alive);
  const bool generated = route.body_size != 0;
  const std::uint64_t body_length = generated ? route.body_size : route.body.size();
  const bool chunked = route.chunked && request.version() >= 11;

  bool ok = false;
  std::string_view unsent_head = head;
  if (plan.hold_headers) {
    const auto held_from = Clock::now();
    if (plan.hold_after_status_line) {
      const auto line_end = head.find("\r\n") + 2;
      co_await write_pieces(stream, {std::string_view(head).substr(0, line_end)}, ok);
      if (!ok) co_return false;
      unsent_head.remove_prefix(line_end);
    }
    arm_timer(*plan.hold_headers, held_from);
    const bool held = co_await hold([&] { return watch_by_reading(stream); });
    if (!held) co_return false;
  }
  const auto headers_sent = [&] {
    server_->record(EventKind::response_headers_sent, number_, info.request,
                    std::to_string(route.status) + (plan.hold_headers ? " hold_headers" : ""));
  };

  // reset=mid-body:N sends N bytes of the body, then the reset; stall-body=after:N sends N
  // bytes, then nothing.
  std::uint64_t sent_length = body_length;
  if (plan.reset_after_body_bytes) {
    sent_length = std::min(*plan.reset_after_body_bytes, sent_length);
  }
  if (plan.stall_body_after) sent_length = std::min(*plan.stall_body_after, sent_length);
  const bool has_body = request.method() != http::verb::head;
  // The last chunk goes with the last piece, when nothing comes between them.
  const bool body_ends =
      chunked && has_body && !plan.reset_after_body_bytes && !plan.stall_body_after;
  if (has_body && sent_length != 0) {
    const std::uint64_t piece = plan.drip_chunk ? *plan.drip_chunk : body_length;
    for (std::uint64_t offset = 0; offset < sent_length; offset += piece) {
      if (offset != 0 && plan.drip_chunk) {
        timer_.expires_after(plan.drip_every);
        co_await wait_timer();
        if (closed_) co_return false;
      }
      const auto length = static_cast<std::size_t>(std::min(piece, sent_length - offset));
      const bool last = offset + length >= sent_length;
      char size_line[32] = "";
      if (chunked) std::snprintf(size_line, sizeof size_line, "%zx\r\n", length);
      // The head goes out with the first piece when that is small: one write and one segment
      // for a whole small response, as a server that is not the bottleneck sends it.
      std::string_view head_part;
      if (!unsent_head.empty() && length <= head_with_body_limit) {
        head_part = unsent_head;
      } else if (!unsent_head.empty()) {
        co_await write_pieces(stream, {unsent_head}, ok);
        if (!ok) co_return false;
      }
      if (!unsent_head.empty()) {
        unsent_head = {};
        if (head_part.empty()) headers_sent();
      }
      const std::string_view suffix =
          !chunked ? "" : (last && body_ends ? "\r\n0\r\n\r\n" : "\r\n");
      if (generated) {
        co_await write_generated(stream, head_part, size_line, length, suffix, ok);
      } else {
        const auto data = std::string_view(route.body).substr(offset, length);
        co_await write_pieces(stream, {head_part, size_line, data, suffix}, ok);
      }
      if (!ok) co_return false;
      if (!head_part.empty()) headers_sent();
    }
  } else {
    co_await write_pieces(stream, {unsent_head, body_ends ? "0\r\n\r\n" : ""}, ok);
    if (!ok) co_return false;
    headers_sent();
  }
  if (plan.reset_after_body_bytes) {
    reset("mid_body", info.request);
    co_return false;
  }
  if (plan.stall_body_after) {
    co_await stall_body(stream, info.request, has_body ? sent_length : 0);
    co_return false;
  }
  server_->record(EventKind::response_done, number_, info.request,
                  plan.drip_chunk ? "drip_body" : "");
  co_return keep_alive;
}

template <typename Stream>
awaitable<void> Connection::write_pieces(Stream& stream, Pieces pieces, bool& ok) {
  std::array<asio::const_buffer, 4> buffers;
  std::size_t count = 0;
  for (const auto piece : pieces) {
    if (!piece.empty()) buffers[count++] = asio::buffer(piece.data(), piece.size());
  }
  ok = !closed_;
  if (count == 0 || !ok) co_return;
  std::size_t first = 0;  // the first buffer with bytes left to write
  if constexpr (std::is_same_v<Stream, tcp::socket>) {
    // An answer that fits the socket's send buffer (nearly all do) is written here and now: no
    // completion is posted for it, so the event loop takes no extra turn per response. (The
    // socket is non-blocking from then on; that changes only this call, not asynchronous ones.)
    boost::system::error_code error;
    if (!stream.non_blocking()) stream.non_blocking(true, error);
    std::size_t written =
        error
            ? 0
            : stream.write_some(std::span<const asio::const_buffer>(buffers.data(), count), error);
    if (error && error != asio::error::would_block) {
      ok = false;
      if (!closed_) closed_by_peer(error);
      co_return;
    }
    for (; first < count && written >= buffers[first].size(); ++first) {
      written -= buffers[first].size();
    }
    if (first == count) co_return;
    buffers[first] += written;
  }
  auto [error, n] = co_await asio::async_write(
      stream, std::span<const asio::const_buffer>(buffers.data() + first, count - first),
      as_tuple_awaitable);
  (void)n;
  ok = !error && !closed_;
  if (error && !closed_) closed_by_peer(error);
}

template <typename Stream>
awaitable<void> Connection::write_generated(Stream& stream, std::string_view head,
                                            std::string_view size_line, std::size_t length,
                                            std::string_view suffix, bool& ok) {
  static const std::string filler(generated_piece, 'x');
  const std::string_view filler_view = filler;
  ok = true;
  bool first = true;
  while (ok && length > 0) {
    const std::size_t n = std::min(length, filler.size());
    length -= n;
    co_await write_pieces(stream,
                          {first ? head : "", first ? size_line : "", filler_view.substr(0, n),
                           length == 0 ? suffix : ""},
                          ok);
    first = false;
  }
}

// Every write of a connection goes through here (write_text() too, from the other files).
template awaitable<void> Connection::write_pieces(tcp::socket&, Pieces, bool&);
template awaitable<void> Connection::write_pieces(TlsStream&, Pieces, bool&);
template awaitable<bool> Connection::respond(tcp::socket&, const RequestInfo&, const RequestPlan&,
                                             const http::request<http::string_body>&);
template awaitable<bool> Connection::respond(TlsStream&, const RequestInfo&, const RequestPlan&,
                                             const http::request<http::string_body>&);

}  // namespace tunedhttp::mockserver::detail
