#include "exchange_rules.hpp"

#include <boost/beast/core/string.hpp>

namespace tunedhttp::detail {

namespace http = boost::beast::http;

bool is_replayable(http::verb method, bool has_idempotency_key) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
      return true;
    default:
      return has_idempotency_key;
  }
}

bool should_retry(const AttemptFacts& attempt) {
  if (!attempt.reused || attempt.got_response_bytes || attempt.timed_out) return false;
  return !attempt.wrote_anything || attempt.replayable;
}

bool is_reusable(const ReuseFacts& facts) {
  return facts.response_keep_alive && facts.request_keep_alive && !facts.body_skipped &&
         !facts.answered_early && !facts.bytes_left_over && facts.status != 101;
}

StatusKind classify_status(unsigned status) {
  if (status == 100) return StatusKind::continue_100;
  if (status > 100 && status < 200 && status != 101) return StatusKind::informational;
  return StatusKind::final;
}

bool waits_for_continue(bool has_body, std::string_view expect_header,
                        bool expect_continue_enabled) {
  return has_body && expect_continue_enabled &&
         boost::beast::iequals(expect_header, "100-continue");
}

}  // namespace tunedhttp::detail
