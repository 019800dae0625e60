#pragma once
// The response side of one exchange, without I/O (the idea of Python's h11, with Beast's parser
// inside): fed the bytes read from the connection, it says what they were — a `100 Continue`,
// another 1xx, the final response's headers, a piece of a streamed body, the end of its body —
// or what is wrong, and how many bytes it used. The exchange reads the socket only when the
// reader needs more; tests and the response fuzzer feed it bytes directly.

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/optional/optional.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

namespace tunedhttp::detail {

/// The client's error for a failure reading a response (Beast's and the socket's codes mapped
/// to errc: server_closed_connection, response_too_large, malformed_response), or `error`.
boost::system::error_code translate_read_error(const boost::system::error_code& error);

/// A body read in pieces: the parser appends what it parses to a string that the caller empties
/// (BasicResponseReader::take_body) before the next bytes. Unlike Beast's string_body it does
/// not reserve the announced Content-Length, so a 16 GiB body costs one read's worth of memory.
struct PieceBody {
  using value_type = std::string;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>& /*header*/, value_type& body)
        : body_(body) {}
    void init(const boost::optional<std::uint64_t>& /*length*/, boost::system::error_code& ec) {
      ec = {};
    }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      ec = {};
      std::size_t total = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        const boost::asio::const_buffer piece = *it;
        body_.append(static_cast<const char*>(piece.data()), piece.size());
        total += piece.size();
      }
      return total;
    }
    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

/// What the bytes fed so far amount to.
enum class ResponseEvent {
  need_more,      ///< read more bytes, then feed everything not yet consumed again
  continue_100,   ///< a `100 Continue` ended: the body may be sent
  informational,  ///< another 1xx ended (102, 103, ...): skipped, as Go does
  final_headers,  ///< the final response's headers are complete
  body_data,      ///< a streamed body (PieceBody): bytes are ready for take_body()
  complete,       ///< the final response is complete (streamed: take_body() the last bytes)
  failed,         ///< `error` says why; the connection is out of sync
};

/// The first event reached by one feed, and the bytes it used.
struct ResponseStep {
  ResponseEvent event = ResponseEvent::need_more;
  std::size_t consumed = 0;         ///< bytes of the input used; drop them from the buffer
  unsigned status = 0;              ///< the status of the response whose headers ended
  boost::system::error_code error;  ///< with `failed`
};

/// `Body`: boost::beast::http::string_body (the whole body, within body_limit) or PieceBody
/// (streamed: body_data events, no limit on the total).
template <class Body>
class BasicResponseReader {
 public:
  using Message = boost::beast::http::response<Body>;
  using Event = ResponseEvent;
  using Step = ResponseStep;
  static constexpr bool streaming = std::is_same_v<Body, PieceBody>;

  /// `head`: the request was HEAD, so no body follows the final headers. The limits are
  /// ClientOptions' header_limit and body_limit (unused when streaming).
  /// `quick` false: every response goes through Beast's parser (quick_response.hpp; the tests
  /// compare the two).
  BasicResponseReader(std::uint32_t header_limit, std::uint64_t body_limit, bool head,
                      bool quick = true);

  /// Feeds `bytes`, everything buffered and not yet consumed; returns at the first event.
  Step feed(boost::asio::const_buffer bytes);
  /// The peer closed the connection: ends a close-delimited body; anything else is failed.
  Step feed_eof();

  /// The final response allows the connection to be reused (HTTP/1.1 keep-alive rules).
  bool keep_alive() const { return quick_ ? quick_keep_alive_ : parser_ && parser_->keep_alive(); }
  /// The final status; 0 before final_headers.
  unsigned status() const { return final_ ? parser_->get().result_int() : 0; }
  /// The final response, after `complete`.
  Message release() { return parser_->release(); }
  /// The final response's status line and headers, after `final_headers`.
  const typename Message::header_type& header() const { return parser_->get().base(); }
  /// Streamed: moves the body bytes parsed so far into `piece` (its old contents dropped, its
  /// storage handed to the parser for the next bytes, so pieces cost no allocation).
  void take_body(std::string& piece) {
    piece.clear();
    piece.swap(parser_->get().body());
  }

 private:
  void start_response();
  Step fail(Step step, const boost::system::error_code& error);
  // The quick path (quick_response.hpp) for a whole response in `bytes`: its final headers, or
  // nullopt when Beast's parser must decide.
  std::optional<Step> feed_quickly(boost::asio::const_buffer bytes);
  // The rest of a response the quick path took: its body's bytes, then `complete`.
  Step feed_quick_body(boost::asio::const_buffer bytes);

  // (The flags sit in what would otherwise be padding: a lean request, which holds a reader,
  // must stay within glibc's per-thread cache; see LeanRequest in client.cpp.)
  const std::uint32_t header_limit_;
  const bool head_;
  const bool quick_allowed_;  ///< the quick path may be tried (the constructor's `quick`)
  bool quick_tried_ = false;  ///< tried for this response: Beast's parser decides from now on
  bool quick_ = false;        ///< the quick path took this response (the parser was not fed)
  const std::uint64_t body_limit_;
  std::optional<boost::beast::http::response_parser<Body>> parser_;
  std::uint64_t quick_body_left_ = 0;  ///< the quick path's body bytes not yet consumed
  int informational_ = 0;              ///< 1xx responses so far
  bool final_ = false;                 ///< the final response's headers are done
  bool failed_ = false;
  bool quick_keep_alive_ = false;  ///< the quick path's response's keep_alive()
};

/// The whole-body reader (async_request).
using ResponseReader = BasicResponseReader<boost::beast::http::string_body>;
/// The streamed-body reader (async_request_stream).
using StreamingResponseReader = BasicResponseReader<PieceBody>;

extern template class BasicResponseReader<boost::beast::http::string_body>;
extern template class BasicResponseReader<PieceBody>;

}  // namespace tunedhttp::detail
