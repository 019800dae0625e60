#pragma once
// Reading a response up to its next event (response_reader.hpp), for the exchange and for the
// dialer's CONNECT: the I/O half of the reader.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>

#include "response_reader.hpp"

namespace tunedhttp::detail {

// Feeds the bytes already read to `reader` and reads the socket only when it needs more, up to
// its next event. Beast's async_read would go through the event loop even when the buffer
// already holds what is asked for (it posts its completion), which is the common case here: a
// small response arrives whole with its first read.
template <class Stream>
boost::asio::awaitable<ResponseReader::Step> next_event(Stream& stream,
                                                        boost::beast::flat_buffer& buffer,
                                                        ResponseReader& reader) {
  for (;;) {
    // Fed even when nothing is buffered: a response may be complete with its headers.
    const auto step = reader.feed(buffer.data());
    buffer.consume(step.consumed);
    if (step.event != ResponseReader::Event::need_more) co_return step;
    ResponseReader::Step failed;
    failed.event = ResponseReader::Event::failed;
    const auto size = boost::beast::read_size(buffer, 65536);
    if (size == 0) {
      failed.error = translate_read_error(boost::beast::http::error::buffer_overflow);
      co_return failed;
    }
    auto [ec, n] = co_await stream.async_read_some(
        buffer.prepare(size), boost::asio::as_tuple(boost::asio::use_awaitable));
    buffer.commit(n);
    if (ec == boost::asio::error::eof) co_return reader.feed_eof();
    if (ec) {
      failed.error = translate_read_error(ec);
      co_return failed;
    }
  }
}

}  // namespace tunedhttp::detail
