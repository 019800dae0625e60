// The write side of an exchange with a body (BodyExchange) as a table of event sequences: what
// Go's writeLoop/readLoop pair does when the body, the 100 Continue and the response end in each
// order. No sockets (the binary runs under no_sockets.cpp's filter), no timers: whether a wait
// ended in time is part of the row.
#include "body_exchange.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tunedhttp::detail {
namespace {

using boost::system::error_code;

/// What happens next, in the order the exchange would see it.
enum class Happens {
  start,                ///< the exchange asks for its first step
  continue_wait_ends,   ///< 100 Continue, expect_continue passing, or the reader's end
  body_starts,          ///< the body writer was started
  progress_wait_ends,   ///< the body was written or the reader ended
  headers_in_time,      ///< the wait for the final headers ended before response_header
  headers_late,         ///< response_header passed first
  reader_gets_headers,  ///< the reader ended with the final headers
  reader_fails,         ///< the reader ended with an error (the server closed)
  body_written,         ///< the writer wrote the whole body
  body_write_fails,     ///< the writer failed (the server reset the connection)
};

struct BodyRow {
  const char* name;
  const char* go;  ///< what Go does, in its words
  bool waits_for_continue;
  std::vector<Happens> happens;
  std::vector<BodyStep> steps;  ///< the steps returned, in order
  error_code error;
  bool body_skipped;
  bool answered_early;
};

const error_code server_closed{errc::server_closed_connection};
const error_code reset{boost::system::errc::make_error_code(boost::system::errc::connection_reset)};
const error_code header_timeout{errc::response_header_timeout};

const BodyRow body_rows[] = {
    {"body_then_headers",
     "writeLoop writes the body; readLoop's response comes after: the plain order",
     false,
     {Happens::start, Happens::body_starts, Happens::body_written, Happens::progress_wait_ends,
      Happens::reader_gets_headers, Happens::headers_in_time},
     {BodyStep::write_body, BodyStep::wait_for_progress, BodyStep::wait_for_headers,
      BodyStep::finish},
     {},
     false,
     false},
    {"response_before_body_is_written",
     "a response before the body is written (413): handed over at once, conn not reused",
     false,
     {Happens::start, Happens::body_starts, Happens::reader_gets_headers,
      Happens::progress_wait_ends},
     {BodyStep::write_body, BodyStep::wait_for_progress, BodyStep::finish},
     {},
     false,
     true},
    {"body_ends_after_the_response",
     "the write ends after the response came: still an early answer (Go: not reused)",
     false,
     {Happens::start, Happens::body_starts, Happens::reader_gets_headers, Happens::body_written,
      Happens::progress_wait_ends, Happens::headers_in_time},
     {BodyStep::write_body, BodyStep::wait_for_progress, BodyStep::wait_for_headers,
      BodyStep::finish},
     {},
     false,
     true},
    {"body_write_fails",
     "writeLoop's error ends the request; the reader is stopped",
     false,
     {Happens::start, Happens::body_starts, Happens::body_write_fails, Happens::progress_wait_ends},
     {BodyStep::write_body, BodyStep::wait_for_progress, BodyStep::stop_reader},
     reset,
     false,
     false},
    {"headers_late_after_the_body",
     "ResponseHeaderTimeout runs from the end of the write: timeout awaiting response headers",
     false,
     {Happens::start, Happens::body_starts, Happens::body_written, Happens::progress_wait_ends,
      Happens::headers_late},
     {BodyStep::write_body, BodyStep::wait_for_progress, BodyStep::wait_for_headers,
      BodyStep::stop_reader},
     header_timeout,
     false,
     false},
    {"server_closes_after_the_body",
     "readLoop's error is the request's",
     false,
     {Happens::start, Happens::body_starts, Happens::body_written, Happens::progress_wait_ends,
      Happens::reader_fails, Happens::headers_in_time},
     {BodyStep::write_body, BodyStep::wait_for_progress, BodyStep::wait_for_headers,
      BodyStep::finish},
     server_closed,
     false,
     false},
    {"continue_or_its_timer_then_body",
     "100 Continue, or ExpectContinueTimeout passing without an answer: the body goes",
     true,
     {Happens::start, Happens::continue_wait_ends, Happens::body_starts, Happens::body_written,
      Happens::progress_wait_ends, Happens::reader_gets_headers, Happens::headers_in_time},
     {BodyStep::wait_for_continue, BodyStep::write_body, BodyStep::wait_for_progress,
      BodyStep::wait_for_headers, BodyStep::finish},
     {},
     false,
     false},
    {"final_status_before_continue",
     "a final status instead of 100 Continue (417, 401): the body is never sent, conn not reused",
     true,
     {Happens::start, Happens::reader_gets_headers, Happens::continue_wait_ends},
     {BodyStep::wait_for_continue, BodyStep::finish},
     {},
     true,
     false},
    {"server_closes_before_continue",
     "the server closes while the body waits: the read error, the body never sent",
     true,
     {Happens::start, Happens::reader_fails, Happens::continue_wait_ends},
     {BodyStep::wait_for_continue, BodyStep::finish},
     server_closed,
     true,
     false},
};

class BodyExchangeTable : public ::testing::TestWithParam<BodyRow> {};

TEST_P(BodyExchangeTable, StepsAndVerdict) {
  const auto& row = GetParam();
  SCOPED_TRACE(row.go);
  BodyExchange exchange(row.waits_for_continue);
  std::vector<BodyStep> steps;
  for (const Happens happened : row.happens) {
    switch (happened) {
      case Happens::start:
        steps.push_back(exchange.start());
        break;
      case Happens::continue_wait_ends:
        steps.push_back(exchange.continue_wait_ended());
        break;
      case Happens::body_starts:
        steps.push_back(exchange.body_started());
        break;
      case Happens::progress_wait_ends:
        steps.push_back(exchange.progress());
        break;
      case Happens::headers_in_time:
        steps.push_back(exchange.header_wait_ended(true));
        break;
      case Happens::headers_late:
        steps.push_back(exchange.header_wait_ended(false));
        break;
      case Happens::reader_gets_headers:
        exchange.reader_done({});
        break;
      case Happens::reader_fails:
        exchange.reader_done(server_closed);
        break;
      case Happens::body_written:
        exchange.body_done({});
        break;
      case Happens::body_write_fails:
        exchange.body_done(reset);
        break;
    }
  }
  EXPECT_EQ(steps, row.steps);
  EXPECT_EQ(exchange.error(), row.error) << exchange.error().message();
  EXPECT_EQ(exchange.body_skipped(), row.body_skipped);
  EXPECT_EQ(exchange.answered_early(), row.answered_early);
}

INSTANTIATE_TEST_SUITE_P(GoRules, BodyExchangeTable, ::testing::ValuesIn(body_rows),
                         [](const ::testing::TestParamInfo<BodyRow>& test_info) {
                           return std::string(test_info.param.name);
                         });

}  // namespace
}  // namespace tunedhttp::detail
