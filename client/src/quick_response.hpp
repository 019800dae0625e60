#pragma once
// The quick path of the response reader (response_reader.hpp): a whole, plain response parsed in
// two short passes, without Beast's parser. Beast's parser is general (1xx, chunked and
// close-delimited bodies, obs-fold, responses that arrive a byte at a time) and costs about 2,400
// instructions for a two-field response (callgrind, the bench's reused request). Most responses a
// pooled client reads are one read's worth of a simple shape, and this path takes those for a few
// hundred.
//
// The rule that keeps it safe: it accepts a strict subset of what Beast's parser accepts, and
// builds a message that reads exactly as Beast's parser's would (the tests compare the two on
// every shape and on mutated inputs; a reason equal to the status's standard text is left to
// Beast's reason(), which returns that text). Anything else is declined (false), and Beast's
// parser takes the response from its first byte, so what it rejects is rejected as before:
// - the version is HTTP/1.0 or HTTP/1.1, the status 200 to 599 but not 204 or 304 (1xx, 204 and
//   304 have no body, and 101 switches protocols), the reason printable ASCII;
// - every field is `token ":" OWS value OWS` on one line, the value printable ASCII with inner
//   spaces and tabs, not empty (no obs-fold, no control or non-ASCII byte);
// - exactly one Content-Length, of digits only; no Transfer-Encoding, Upgrade or
//   Proxy-Connection; at most one Connection, of `close` or `keep-alive`;
// - the head is within `header_limit`, the body within `body_limit`, and both are all in the
//   bytes given.

#include <array>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tunedhttp::detail {

/// What scan_quick_response() found in a response it can take. It refers to the bytes scanned.
struct QuickHead {
  /// A response with more fields is left to Beast's parser (no allocation here for a rare shape).
  static constexpr std::size_t max_fields = 24;
  /// Where a field's name (as sent) and value (without the OWS around it) are in the bytes
  /// scanned. Plain offsets, left uninitialised until scanned: the array is the bulk of this
  /// object, which is made for every response.
  struct Field {
    std::uint32_t name_at;
    std::uint32_t name_size;
    std::uint32_t value_at;
    std::uint32_t value_size;
    /// Beast's enum for the name when the scan knew it (a common name), else unknown: the fill
    /// asks string_to_field.
    boost::beast::http::field known;
  };

  std::size_t head_size = 0;  ///< the status line, the fields and the empty line
  std::uint64_t content_length = 0;
  unsigned status = 0;
  unsigned version = 0;  ///< 10 or 11, as Beast counts it
  std::string_view reason;
  std::array<Field, max_fields> fields;
  std::size_t field_count = 0;
  bool keep_alive = false;  ///< as Beast's parser's keep_alive() would say
};

/// Whether `bytes` begin with a whole response the quick path can take (the rules above), with
/// its shape in `head`; false when Beast's parser must decide. Reads nothing past the response.
bool scan_quick_response(std::string_view bytes, std::uint32_t header_limit,
                         std::optional<std::uint64_t> body_limit, QuickHead& head);

/// Beast's enum for a field name, as string_to_field() gives it: the scan's quick answer for the
/// common names it knows, else string_to_field's. (For the tests: the two must always agree.)
boost::beast::http::field quick_field_of(std::string_view name);

/// Fills `message`, as Beast's parser leaves it, from `bytes` that scan_quick_response() took as
/// `head`: the status, version and reason, the fields in their order with their names as sent,
/// and the body.
void fill_quick_response(std::string_view bytes, const QuickHead& head,
                         boost::beast::http::response<boost::beast::http::string_body>& message);

}  // namespace tunedhttp::detail
