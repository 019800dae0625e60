#pragma once
// The response side of one exchange, without I/O (the idea of Python's h11, with Beast's parser
// inside): fed the bytes read from the connection, it says what they were — a `100 Continue`,
// another 1xx, the final response's headers, the end of its body — or what is wrong, and how
// many bytes it used. The exchange reads the socket only when the reader needs more; tests and
// the response fuzzer feed it bytes directly.

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <optional>

namespace tunedhttp::detail {

/// The client's error for a failure reading a response (Beast's and the socket's codes mapped
/// to errc: server_closed_connection, response_too_large, malformed_response), or `error`.
boost::system::error_code translate_read_error(const boost::system::error_code& error);

class ResponseReader {
 public:
  using Message = boost::beast::http::response<boost::beast::http::string_body>;

  /// `head`: the request was HEAD, so no body follows the final headers. The limits are
  /// ClientOptions' header_limit and body_limit.
  ResponseReader(std::uint32_t header_limit, std::uint64_t body_limit, bool head);

  /// What the bytes fed so far amount to.
  enum class Event {
    need_more,      ///< read more bytes, then feed everything not yet consumed again
    continue_100,   ///< a `100 Continue` ended: the body may be sent
    informational,  ///< another 1xx ended (102, 103, ...): skipped, as Go does
    final_headers,  ///< the final response's headers are complete
    complete,       ///< the final response is complete
    failed,         ///< `error` says why; the connection is out of sync
  };

  /// The first event reached by one feed, and the bytes it used.
  struct Step {
    Event event = Event::need_more;
    std::size_t consumed = 0;         ///< bytes of the input used; drop them from the buffer
    unsigned status = 0;              ///< the status of the response whose headers ended
    boost::system::error_code error;  ///< with `failed`
  };

  /// Feeds `bytes`, everything buffered and not yet consumed; returns at the first event.
  Step feed(boost::asio::const_buffer bytes);
  /// The peer closed the connection: ends a close-delimited body; anything else is failed.
  Step feed_eof();

  /// The final response allows the connection to be reused (HTTP/1.1 keep-alive rules).
  bool keep_alive() const { return parser_ && parser_->keep_alive(); }
  /// The final status; 0 before final_headers.
  unsigned status() const { return final_ ? parser_->get().result_int() : 0; }
  /// The final response, after `complete`.
  Message release() { return parser_->release(); }

 private:
  void start_response();
  Step fail(Step step, const boost::system::error_code& error);

  const std::uint32_t header_limit_;
  const std::uint64_t body_limit_;
  const bool head_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  int informational_ = 0;  ///< 1xx responses so far
  bool final_ = false;     ///< the final response's headers are done
  bool failed_ = false;
};

}  // namespace tunedhttp::detail
