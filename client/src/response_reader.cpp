#include "response_reader.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <tunedhttp/error.hpp>

#include "exchange_rules.hpp"
#include "quick_response.hpp"

namespace tunedhttp::detail {

namespace http = boost::beast::http;
using boost::system::error_code;

error_code translate_read_error(const error_code& ec) {
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated) {
    return errc::server_closed_connection;
  }
  if (ec == http::error::header_limit || ec == http::error::body_limit ||
      ec == http::error::buffer_overflow) {
    return errc::response_too_large;
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return errc::malformed_response;
  }
  return ec;
}

template <class Body>
BasicResponseReader<Body>::BasicResponseReader(std::uint32_t header_limit, std::uint64_t body_limit,
                                               bool head, bool quick)
    : header_limit_(header_limit),
      head_(head),
      // A streamed body is handed over in pieces, and a HEAD's response has none to read.
      quick_allowed_(quick && !streaming && !head),
      body_limit_(body_limit) {
  start_response();
}

template <class Body>
void BasicResponseReader<Body>::start_response() {
  quick_tried_ = false;
  quick_ = false;
  parser_.emplace();
  parser_->header_limit(header_limit_);
  // A streamed body is never held whole: no limit on its total.
  if constexpr (streaming) {
    parser_->body_limit(boost::none);
  } else {
    parser_->body_limit(body_limit_);
  }
  if (head_) parser_->skip(true);
}

template <class Body>
ResponseStep BasicResponseReader<Body>::fail(Step step, const error_code& error) {
  failed_ = true;
  step.event = Event::failed;
  step.error = translate_read_error(error);
  return step;
}

template <class Body>
std::optional<ResponseStep> BasicResponseReader<Body>::feed_quickly(
    boost::asio::const_buffer bytes) {
  // Tried once per response, on the first bytes: a response that arrives in pieces, or that the
  // quick path declines, is Beast's parser's from its first byte.
  quick_tried_ = true;
  if constexpr (!streaming) {
    const std::string_view text(static_cast<const char*>(bytes.data()), bytes.size());
    QuickHead head;  // not value-initialised: its field array is written as it is scanned
    if (!scan_quick_response(text, header_limit_, body_limit_, head)) return std::nullopt;
    fill_quick_response(text, head, parser_->get());
    quick_ = true;
    quick_keep_alive_ = head.keep_alive;
    quick_body_left_ = head.content_length;
    final_ = true;
    Step step;
    step.event = Event::final_headers;
    step.consumed = head.head_size;
    step.status = head.status;
    return step;
  } else {
    return std::nullopt;
  }
}

template <class Body>
ResponseStep BasicResponseReader<Body>::feed_quick_body(boost::asio::const_buffer bytes) {
  Step step;
  step.consumed = static_cast<std::size_t>(
      std::min<std::uint64_t>(quick_body_left_, static_cast<std::uint64_t>(bytes.size())));
  quick_body_left_ -= step.consumed;
  if (quick_body_left_ == 0) step.event = Event::complete;
  return step;
}

template <class Body>
ResponseStep BasicResponseReader<Body>::feed(boost::asio::const_buffer bytes) {
  Step step;
  if (failed_) return fail(step, http::error::bad_version);
  if (quick_) return feed_quick_body(bytes);
  if (!quick_tried_ && quick_allowed_) {
    if (auto quick = feed_quickly(bytes)) return *quick;
  }
  for (;;) {
    if (final_ && parser_->is_done()) {
      step.event = Event::complete;
      return step;
    }
    error_code ec;
    const std::size_t used = parser_->put(bytes, ec);
    bytes += used;
    step.consumed += used;
    if (ec == http::error::need_more) return step;  // Event::need_more
    if (ec) return fail(step, ec);
    if (!final_ && parser_->is_header_done()) {
      step.status = parser_->get().result_int();
      switch (classify_status(step.status)) {
        case StatusKind::final:
          final_ = true;
          step.event = Event::final_headers;
          return step;
        case StatusKind::continue_100:
        case StatusKind::informational:
          // Go stops after max_informational_responses ("too many 1xx informational").
          if (++informational_ > max_informational_responses) {
            return fail(step, errc::too_many_informational);
          }
          step.event = classify_status(step.status) == StatusKind::continue_100
                           ? Event::continue_100
                           : Event::informational;
          start_response();
          return step;
      }
    }
    if (final_ && parser_->is_done()) continue;
    if constexpr (streaming) {
      if (final_ && !parser_->get().body().empty()) {
        step.event = Event::body_data;
        return step;
      }
    }
    if (bytes.size() == 0 || used == 0) return step;  // need_more
  }
}

template <class Body>
ResponseStep BasicResponseReader<Body>::feed_eof() {
  Step step;
  if (failed_) return fail(step, http::error::bad_version);
  if (quick_) {
    if (quick_body_left_ != 0) return fail(step, http::error::partial_message);
    step.event = Event::complete;
    return step;
  }
  if (!parser_->got_some()) return fail(step, http::error::end_of_stream);
  error_code ec;
  parser_->put_eof(ec);
  if (ec) return fail(step, ec);
  if (!final_ || !parser_->is_done()) return fail(step, http::error::partial_message);
  step.event = Event::complete;
  return step;
}

template class BasicResponseReader<http::string_body>;
template class BasicResponseReader<PieceBody>;

}  // namespace tunedhttp::detail
