#pragma once
// Go's rules for one exchange, as pure functions over plain facts: whether a failed attempt is
// tried again, whether a connection is reused, how a status line continues the read, and when
// a request waits for `100 Continue`. No I/O; the client's coroutines gather the facts and
// follow the answers, and tests feed the facts directly (tests/client/exchange_rules_test.cpp).

#include <boost/beast/http/verb.hpp>
#include <string_view>

namespace tunedhttp::detail {

/// Go's Request.isReplayable: GET, HEAD, OPTIONS and TRACE may be sent twice; any other method
/// only with an `Idempotency-Key` or `X-Idempotency-Key` header.
bool is_replayable(boost::beast::http::verb method, bool has_idempotency_key);

/// What happened to one attempt of a request.
struct AttemptFacts {
  bool reused = false;              ///< the connection came from the idle pool
  bool got_response_bytes = false;  ///< any byte of a response arrived
  bool timed_out = false;           ///< one of the settings' timers ended it
  bool wrote_anything = false;      ///< any byte of the request reached the socket
  bool replayable = false;          ///< is_replayable() of the request
};

/// Go's persistConn.shouldRetryRequest: only a failure on a reused connection before any
/// response byte, and only when nothing was written or the request may be sent twice. A
/// timeout is a setting working as configured, never a reason to try again.
bool should_retry(const AttemptFacts& attempt);

/// What an exchange left behind on its connection.
struct ReuseFacts {
  bool response_keep_alive = true;  ///< the response allows reuse (HTTP/1.1, no `close`)
  bool request_keep_alive = true;   ///< the request did not ask for `Connection: close`
  bool body_skipped = false;        ///< a final status came before `100 Continue`: body unsent
  bool answered_early = false;      ///< the response came before the body was fully written
  bool bytes_left_over = false;     ///< bytes read past the response (out of sync)
  unsigned status = 200;            ///< the final status
};

/// Whether the connection may go back to the pool: in sync, read to the end, keep-alive on
/// both sides, not switched to another protocol (101).
bool is_reusable(const ReuseFacts& facts);

/// Go stops after this many 1xx responses to one request ("too many 1xx informational
/// responses"): a server that sends more is broken or hostile.
inline constexpr int max_informational_responses = 5;

/// What a status line read while waiting for the final response means.
enum class StatusKind {
  final,          ///< 2xx–5xx, and 101 (the end of HTTP/1.1 on this connection)
  continue_100,   ///< `100 Continue`: send the body now
  informational,  ///< another 1xx (102, 103…): skipped, keep reading
};

/// Classifies `status`; a status below 100 is final (the parser refuses it before this).
StatusKind classify_status(unsigned status);

/// Whether the request waits for `100 Continue` before its body: it has a body, an
/// `Expect: 100-continue` header, and expect_continue is set (Go: ExpectContinueTimeout > 0).
bool waits_for_continue(bool has_body, std::string_view expect_header,
                        bool expect_continue_enabled);

}  // namespace tunedhttp::detail
